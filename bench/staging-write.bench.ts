import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import { from as copyFrom } from 'pg-copy-streams'
import { isRelevant, RELEVANT_KEYS } from '../apps/api/src/modules/ingestion/categories.js'
import { contentHash } from '../apps/api/src/modules/ingestion/content-hash.js'
import { type NormalizedPoi, normalizePoi } from '../apps/api/src/modules/ingestion/normalize.js'
import { readOsmFile } from '../apps/api/src/modules/ingestion/osm/index.js'
import { writeCheckpoint } from '../apps/api/src/modules/ingestion/pipeline/staging-sql.js'
import { stageRecords } from '../apps/api/src/modules/ingestion/pipeline/staging-writer.js'
import { TARGETS } from '../apps/api/src/modules/ingestion/pipeline/targets.js'
import type { DB } from '../apps/api/src/platform/db/schema.js'
import { type BenchDatabase, createBenchDatabase } from './lib/bench-db.js'

/**
 * Staging write speed on real Postgres, ~200 k POI rows made by tiling the normalised real extracts:
 * (a) one plain COPY of the rows into the staging table itself (same indexes and checks), as one
 * stream in one transaction; (b) our first import (`stageRecords`: change detection, batches of
 * INGEST_BATCH_SIZE each committed with its checkpoint, closing transaction); (c) re-imports of the
 * same, unchanged data. A CHECKPOINT before each step keeps one step's dirty pages from being flushed
 * during the next.
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000)
const BATCH = Number(process.env.INGEST_BATCH_SIZE ?? 1000)
const EXTRACTS = [
  'sergiev-posad-lavra-2020.osm',
  'moscow-shabolovka-2020.osm',
  'moscow-ostankino-2013.osm.pbf',
].map((f) => resolve(import.meta.dirname, '../../shared/data/osm', f))
const SPEC = TARGETS.poi

async function basePois(): Promise<NormalizedPoi[]> {
  const out: NormalizedPoi[] = []
  for (const path of EXTRACTS) {
    const read = await readOsmFile(path, { keep: isRelevant, keys: RELEVANT_KEYS })
    for await (const f of read) {
      const poi = normalizePoi(f)
      if (poi) out.push(poi)
    }
  }
  return out
}

/** Copy k of the base set is shifted on a grid and renumbered, so every row is distinct. */
function tile(base: NormalizedPoi[], rows: number): NormalizedPoi[] {
  const copies = Math.ceil(rows / base.length)
  const columns = Math.ceil(Math.sqrt(copies))
  const out: NormalizedPoi[] = []
  for (let k = 0; k < copies && out.length < rows; k++) {
    const dLat = Math.floor(k / columns) * 0.05
    const dLon = (k % columns) * 0.05
    for (const p of base) {
      if (out.length >= rows) break
      const osm_id = k * 10_000_000_000 + p.osm_id
      const { content_hash: _, ...rest } = p
      const moved = {
        ...rest,
        osm_id,
        lat: Math.round((p.lat + dLat) * 1e7) / 1e7,
        lon: Math.round((p.lon + dLon) * 1e7) / 1e7,
        source_url: `https://www.openstreetmap.org/${p.osm_type}/${osm_id}`,
      }
      out.push({ ...moved, content_hash: contentHash(moved) })
    }
  }
  return out
}

async function insertRun(db: Kysely<DB>, cityId: number): Promise<string> {
  const row = await db
    .insertInto('ingestion_run')
    .values({
      type: 'osm',
      city_id: cityId,
      boundary_ref: '102269',
      run_date: '2024-01-01',
      idempotency_key: `bench|${Math.random()}`,
      status: 'RUNNING',
      source: JSON.stringify({ kind: 'file', name: 'bench' }),
      trigger: 'cli',
      max_attempts: 1,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

const csv = (v: unknown): string => {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v)
  return `"${s.replace(/"/g, '""')}"`
}

/** One COPY of every row into `table`, as one stream in one transaction. */
async function copyRows(
  database: BenchDatabase,
  table: string,
  rows: NormalizedPoi[],
  cityId: number,
  runId: string,
) {
  const cols = ['city_id', 'osm_type', 'osm_id', ...SPEC.columns, 'first_seen_run', 'last_changed_run']
  await sql`CHECKPOINT`.execute(database.db)
  const client = await database.pool.connect()
  const started = performance.now()
  try {
    const lines = function* () {
      let chunk = ''
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as unknown as Record<string, unknown>
        const values = [cityId, r.osm_type, r.osm_id, ...SPEC.columns.map((c) => r[c]), runId, runId]
        chunk += `${values.map(csv).join(',')}\n`
        if (i % 1000 === 999) {
          yield chunk
          chunk = ''
        }
      }
      if (chunk) yield chunk
    }
    await pipeline(
      Readable.from(lines()),
      client.query(copyFrom(`COPY ${table} (${cols.join(', ')}) FROM STDIN (FORMAT csv)`)),
    )
  } finally {
    client.release()
  }
  return (performance.now() - started) / 1000
}

async function* iterate<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows
}

/** The staging write of an `osm` run as the handler runs it, minus reading and normalising the file. */
async function importRows(database: BenchDatabase, rows: NormalizedPoi[], cityId: number, runId: string) {
  const { db } = database
  await sql`CHECKPOINT`.execute(db)
  const t0 = performance.now()
  const outcome = await stageRecords(
    {
      db,
      pool: database.pool,
      cityId,
      runId,
      batchSize: BATCH,
      resumeAt: 0,
      checkpointAt: (through) => ({
        phase: 'items',
        data: { path: null, source: { kind: 'file', bytes: 0 } },
        items: { through },
      }),
      progress: async () => {},
      shouldYield: () => false,
    },
    SPEC,
    iterate(rows),
    async (trx, result) => writeCheckpoint(trx, runId, { phase: 'done', stats: { ...result } }),
  )
  if (outcome.status !== 'done') throw new Error('the bench never yields')
  return { seconds: (performance.now() - t0) / 1000, written: outcome.new + outcome.changed }
}

export async function run() {
  const base = await basePois()
  const rows = tile(base, ROWS)
  const database = await createBenchDatabase()
  try {
    const { db } = database
    const city = await db
      .selectFrom('cities')
      .select('id')
      .where('slug', '=', 'moscow')
      .executeTakeFirstOrThrow()
    const copyRun = await insertRun(db, city.id)
    const copyS = await copyRows(database, 'poi_ingestion_staging', rows, city.id, copyRun)
    await sql`TRUNCATE poi_ingestion_staging CASCADE`.execute(db)
    await sql`VACUUM ANALYZE`.execute(db)

    const first = await importRows(database, rows, city.id, await insertRun(db, city.id))
    await sql`VACUUM ANALYZE`.execute(db)
    // Two re-imports: the first after the first import, and one in steady state. Since row states are
    // derived (ADR 009) neither writes a row; the bench measures both to show it.
    const again = await importRows(database, rows, city.id, await insertRun(db, city.id))
    const steady = await importRows(database, rows, city.id, await insertRun(db, city.id))

    const figures = {
      rows: rows.length,
      baseRows: base.length,
      batchSize: BATCH,
      copyIntoStaging: { seconds: round(copyS), rowsPerSecond: Math.round(rows.length / copyS) },
      firstImport: {
        seconds: round(first.seconds),
        rowsPerSecond: Math.round(rows.length / first.seconds),
        ratioToCopy: round(copyS / first.seconds),
        written: first.written,
      },
      reimportUnchanged: {
        seconds: round(again.seconds),
        speedupOverFirst: round(first.seconds / again.seconds),
        written: again.written,
      },
      reimportSteadyState: {
        seconds: round(steady.seconds),
        speedupOverFirst: round(first.seconds / steady.seconds),
        written: steady.written,
      },
    }
    return figures
  } finally {
    await database.drop()
  }
}

const round = (n: number) => Math.round(n * 100) / 100

if (import.meta.filename === process.argv[1]) {
  console.log(JSON.stringify(await run(), null, 2))
}
