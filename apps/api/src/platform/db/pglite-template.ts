import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * A pristine PGlite cluster (what initdb makes: system catalogs only, no schema, no data, no keys),
 * dumped once when the project is installed (`npm ci` runs `prepare`) and loaded into a new data
 * directory on its first start instead of running initdb again, the bulk of a first start's time
 * (ADR 011). Kept under `node_modules/.cache`, named by the PGlite version and extensions, so an
 * upgrade of PGlite never loads a cluster of another version; without a template a first start
 * runs initdb as before.
 */
function pgliteRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  return dir
}

export function clusterTemplatePath(extensions: string[]): string {
  const root = pgliteRoot()
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  const nodeModules = dirname(dirname(root))
  return join(nodeModules, '.cache', 'gorod', `pglite-${version}-${[...extensions].sort().join('+')}.tar`)
}

/** A data directory that holds no cluster yet (missing or empty). */
export function isNewDataDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0
}

export function readClusterTemplate(extensions: string[]): Blob | undefined {
  const path = clusterTemplatePath(extensions)
  return existsSync(path) ? new Blob([readFileSync(path)]) : undefined
}

/** Written next to its final name and renamed, so a reader never sees half a template. */
export async function writeClusterTemplate(extensions: string[], dump: Blob): Promise<string> {
  const path = clusterTemplatePath(extensions)
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()))
  renameSync(tmp, path)
  return path
}
