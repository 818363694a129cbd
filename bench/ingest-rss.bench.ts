import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { sql } from 'kysely'
import { createBenchDatabase } from './lib/bench-db.js'
import { makeSyntheticCity } from './make-synthetic-city.js'

/**
 * Peak RSS of a whole file → staging ingestion on synthetic cities of growing size (tiled from the
 * Shabolovka extract, placed inside Moscow's bbox). Each ingestion runs in a child process against
 * a fresh Postgres database; memory should stay flat as the file grows.
 */
const SIZES = (process.env.BENCH_SIZES ?? '250000,1000000,2000000').split(',').map(Number)

export async function run() {
  const database = await createBenchDatabase(2)
  const results: Array<Record<string, unknown>> = []
  try {
    for (const size of SIZES) {
      const city = await makeSyntheticCity(size)
      const file = city.pbf ?? city.xml
      await sql`DELETE FROM poi_ingestion_staging`.execute(database.db)
      const child = join(import.meta.dirname, 'lib/ingest-rss-child.ts')
      const out = execFileSync(process.execPath, ['--import', 'tsx', child, database.url, file], {
        encoding: 'utf8',
      })
      const figures = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>
      results.push({ objects: city.objects, format: city.pbf ? 'pbf' : 'xml', ...figures })
      rmSync(dirname(city.xml), { recursive: true, force: true })
    }
  } finally {
    await database.drop()
  }
  return results
}

if (import.meta.filename === process.argv[1]) {
  for (const r of await run()) console.log(JSON.stringify(r))
}
