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
import {
  closeRun,
  deleteItems,
  type ItemRow,
  insertItems,
  itemKey,
  unchangedKeys,
  upsertBatch,
  writeCheckpoint,
} from '../apps/api/src/modules/ingestion/pipeline/staging-sql.js'
import { TARGETS } from '../apps/api/src/modules/ingestion/pipeline/targets.js'
import type { DB } from '../apps/api/src/platform/db/schema.js'
import { type BenchDatabase, createBenchDatabase } from './lib/bench-db.js'

/**
 * Staging write speed on real Postgres, ~200 k POI rows made by tiling the normalised real extracts:
 * (a) plain COPY into an identical indexed table, (b) our first import (items + upsert phases, one
 * transaction per batch with its checkpoint), (c) a re-import of the same, unchanged data.
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

async function copyRows(database: BenchDatabase, rows: NormalizedPoi[], cityId: number, runId: string) {
  await sql`CREATE TABLE copy_target (LIKE poi_ingestion_staging INCLUDING ALL)`.execute(database.db)
  const cols = [
    'city_id',
    'osm_type',
    'osm_id',
    ...SPEC.columns,
    'first_seen_run',
    'last_seen_run',
    'last_changed_run',
    'change_state',
  ]
  const client = await database.pool.connect()
  const started = performance.now()
  try {
    const lines = function* () {
      let chunk = ''
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as unknown as Record<string, unknown>
        const values = [
          cityId,
          r.osm_type,
          r.osm_id,
          ...SPEC.columns.map((c) => r[c]),
          runId,
          runId,
          runId,
          'new',
        ]
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
      client.query(copyFrom(`COPY copy_target (${cols.join(', ')}) FROM STDIN (FORMAT csv)`)),
    )
  } finally {
    client.release()
  }
  return (performance.now() - started) / 1000
}

/** The items and upsert phases as the handler runs them, minus reading the file. */
async function importRows(db: Kysely<DB>, rows: NormalizedPoi[], cityId: number, runId: string) {
  const t0 = performance.now()
  for (let from = 0; from < rows.length; from += BATCH) {
    const batch: ItemRow[] = rows.slice(from, from + BATCH).map((r) => ({
      osm_type: r.osm_type,
      osm_id: r.osm_id,
      record: JSON.stringify(r),
      content_hash: r.content_hash,
    }))
    const same = await unchangedKeys(db, SPEC, cityId, batch)
    for (const row of batch) if (same.has(itemKey(row.osm_type, row.osm_id))) row.record = null
    await insertItems(db, runId, from + 1, batch)
  }
  const t1 = performance.now()
  let written = 0
  for (let from = 0; from < rows.length; from += BATCH) {
    const to = Math.min(rows.length, from + BATCH)
    written += await db.transaction().execute(async (trx) => {
      const w = await upsertBatch(trx, SPEC, { cityId, runId, from, to })
      await writeCheckpoint(trx, runId, { phase: 'upsert' })
      return w.inserted + w.updated
    })
  }
  const t2 = performance.now()
  await db.transaction().execute(async (trx) => {
    await closeRun(trx, SPEC, { cityId, runId })
    await deleteItems(trx, runId)
  })
  const t3 = performance.now()
  return { itemsS: (t1 - t0) / 1000, upsertS: (t2 - t1) / 1000, finalizeS: (t3 - t2) / 1000, written }
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
    const copyS = await copyRows(database, rows, city.id, copyRun)
    await sql`VACUUM ANALYZE`.execute(db)

    const first = await importRows(db, rows, city.id, await insertRun(db, city.id))
    await sql`VACUUM ANALYZE`.execute(db)
    const again = await importRows(db, rows, city.id, await insertRun(db, city.id))
    // The first re-import also settles every row from `new` to `unchanged`; later ones do not.
    const steady = await importRows(db, rows, city.id, await insertRun(db, city.id))

    const firstS = first.itemsS + first.upsertS
    const againS = again.itemsS + again.upsertS + again.finalizeS
    const figures = {
      rows: rows.length,
      baseRows: base.length,
      batchSize: BATCH,
      copy: { seconds: round(copyS), rowsPerSecond: Math.round(rows.length / copyS) },
      firstImport: {
        itemsSeconds: round(first.itemsS),
        upsertSeconds: round(first.upsertS),
        finalizeSeconds: round(first.finalizeS),
        rowsPerSecond: Math.round(rows.length / firstS),
        ratioToCopy: round(copyS / firstS),
        written: first.written,
      },
      reimportUnchanged: {
        itemsSeconds: round(again.itemsS),
        upsertSeconds: round(again.upsertS),
        finalizeSeconds: round(again.finalizeS),
        seconds: round(againS),
        speedupOverFirst: round((firstS + first.finalizeS) / againS),
        written: again.written,
      },
      reimportSteadyState: {
        seconds: round(steady.itemsS + steady.upsertS + steady.finalizeS),
        speedupOverFirst: round(
          (firstS + first.finalizeS) / (steady.itemsS + steady.upsertS + steady.finalizeS),
        ),
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
