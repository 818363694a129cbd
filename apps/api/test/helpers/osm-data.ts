import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe } from 'vitest'

/** The shared OSM extracts live beside the project root, never inside the repository (ODbL data). */
export const OSM_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/data/osm')

const available = existsSync(OSM_DATA_DIR)

if (!available && process.env.CI === 'true') {
  // In CI the extracts are part of the contract: a missing folder must fail loudly, not skip.
  throw new Error(
    `OSM extracts folder is missing: ${OSM_DATA_DIR} (expected ../shared/data/osm beside the project)`,
  )
}

/** Absolute path of one extract, e.g. osmFile('sergiev-posad-lavra-2020.osm.pbf'). */
export function osmFile(name: string): string {
  return join(OSM_DATA_DIR, name)
}

/**
 * `describe` that runs only when the shared extracts are present. Outside CI a missing folder skips
 * the block with a message naming it; under CI=true the import above has already failed.
 */
export const describeWithOsmData: typeof describe = available
  ? describe
  : (((name: string, ...rest: unknown[]) =>
      describe.skip(
        `${name} (skipped: ../shared/data/osm not found at ${OSM_DATA_DIR})`,
        ...(rest as [() => void]),
      )) as unknown as typeof describe)
