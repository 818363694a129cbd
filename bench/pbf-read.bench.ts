import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { osmiumAvailable } from './lib/osmium.js'
import { TOURISM_KEYS } from './lib/pbf-read-child.js'
import { makeSyntheticCity } from './make-synthetic-city.js'

/**
 * PBF reader speed and memory on synthetic cities of >= 1 M objects, against `osmium tags-filter`
 * on the same file (with referenced objects, osmium's default). Each reader run is a child process,
 * so its maxRSS is the reader's own; the best of RUNS timings is kept for both tools.
 */
const SIZES = [250_000, 1_000_000, 2_000_000]
const MAIN_SIZE = 1_000_000
const RUNS = 3

interface ChildResult {
  objects: number
  features: number
  seconds: number
  objectsPerSecond: number
  maxRssMB: number
  startupRssMB: number
}

function readInChild(pbf: string): ChildResult {
  const child = join(import.meta.dirname, 'lib/pbf-read-child.ts')
  const out = execFileSync(process.execPath, ['--import', 'tsx', child, pbf], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult
}

function osmiumFilterSeconds(pbf: string): number {
  const filters = TOURISM_KEYS.flatMap((k) => [`n/${k}`, `w/${k}`, `r/${k}`])
  const started = process.hrtime.bigint()
  execFileSync('osmium', [
    'tags-filter',
    pbf,
    ...filters,
    '-o',
    join(dirname(pbf), 'filtered.osm.pbf'),
    '--overwrite',
  ])
  return Number(process.hrtime.bigint() - started) / 1e9
}

export async function run(): Promise<Record<string, unknown>> {
  if (!osmiumAvailable()) {
    const message =
      'osmium not found (Debian package osmium-tool): it builds the PBF input and is the reference; skipped'
    console.log(message)
    return { skipped: message }
  }
  const results: Record<string, unknown> = {}
  const memory: Record<string, unknown>[] = []
  for (const size of SIZES) {
    const city = await makeSyntheticCity(size)
    try {
      const pbf = city.pbf!
      const ours = Array.from({ length: size === MAIN_SIZE ? RUNS : 1 }, () => readInChild(pbf))
      const best = ours.reduce((a, b) => (b.seconds < a.seconds ? b : a))
      memory.push({
        objects: best.objects,
        maxRssMB: Math.max(...ours.map((o) => o.maxRssMB)),
        startupRssMB: best.startupRssMB,
      })
      if (size === MAIN_SIZE) {
        const osmiumSeconds = Math.min(...Array.from({ length: RUNS }, () => osmiumFilterSeconds(pbf)))
        Object.assign(results, {
          objects: best.objects,
          features: best.features,
          readerSeconds: best.seconds,
          readerObjectsPerSecond: best.objectsPerSecond,
          osmiumTagsFilterSeconds: osmiumSeconds,
          osmiumObjectsPerSecond: Math.round(best.objects / osmiumSeconds),
          readerToOsmiumTimeRatio: Number((best.seconds / osmiumSeconds).toFixed(2)),
        })
      }
    } finally {
      rmSync(dirname(city.xml), { recursive: true, force: true })
    }
  }
  results.peakRssByInputSize = memory
  return results
}

if (import.meta.filename === process.argv[1]) {
  const results = await run()
  console.log(JSON.stringify(results, null, 2))
  if (typeof results.readerToOsmiumTimeRatio === 'number') {
    console.log(`reader / osmium tags-filter time: ${results.readerToOsmiumTimeRatio}x (target <= 2x)`)
  }
}
