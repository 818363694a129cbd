import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * `npm run bench [-- name ...]`: runs the named benchmarks (all by default) one after another and
 * prints their figures; the last run's figures are also written to bench/.out/latest.json.
 * Postgres-backed ones use BENCH_DATABASE_URL (default: the local server's `test` database) and create
 * and drop databases of their own. Benchmarks print figures; they never pass or fail on a time.
 */
const BENCHES: Record<string, () => Promise<{ run: () => Promise<unknown> }>> = {
  startup: () => import('./startup.bench.js'),
  health: () => import('./health.bench.js'),
  enqueue: () => import('./enqueue.bench.js'),
  'pbf-read': () => import('./pbf-read.bench.js'),
  'staging-write': () => import('./staging-write.bench.js'),
  'ingest-rss': () => import('./ingest-rss.bench.js'),
  nearby: () => import('./nearby.bench.js'),
  packs: () => import('./packs.bench.js'),
  stores: () => import('./stores.bench.js'),
  tiles: () => import('./tiles.bench.js'),
  basemap: () => import('./basemap.bench.js'),
  accounts: () => import('./accounts.bench.js'),
  catalog: () => import('./catalog.bench.js'),
}

const wanted = process.argv.slice(2)
const unknown = wanted.filter((n) => !(n in BENCHES))
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`)
  process.exit(2)
}
const results: Record<string, unknown> = {}
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  console.log(`\n=== ${name}`)
  const started = Date.now()
  try {
    const figures = await (await BENCHES[name]!()).run()
    results[name] = figures ?? '(printed above)'
    if (figures) console.log(JSON.stringify(figures, null, 2))
  } catch (err) {
    results[name] = { error: (err as Error).message }
    console.error(`${name} failed: ${(err as Error).stack}`)
  }
  console.log(`=== ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
const out = join(import.meta.dirname, '.out')
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, 'latest.json'),
  `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
)
