import { sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { changeStateOf } from '../../src/modules/ingestion/change-state.js'
import { contentHash } from '../../src/modules/ingestion/content-hash.js'
import type { Checkpoint } from '../../src/modules/ingestion/pipeline/checkpoint.js'
import { writeCheckpoint } from '../../src/modules/ingestion/pipeline/staging-sql.js'
import { type StagingRun, stageRecords } from '../../src/modules/ingestion/pipeline/staging-writer.js'
import { TARGETS } from '../../src/modules/ingestion/pipeline/targets.js'
import { insertRunningRun } from '../helpers/job-context.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'

const SPEC = TARGETS.poi
let database: TestDatabase
let cityId: number

beforeAll(async () => {
  database = await createTestDatabase()
  cityId = (
    await database.db
      .selectFrom('cities')
      .select('id')
      .where('slug', '=', 'sergiev-posad')
      .executeTakeFirstOrThrow()
  ).id
})
afterAll(async () => {
  await database?.close()
})
beforeEach(async () => {
  await sql`DELETE FROM poi_ingestion_staging`.execute(database.db)
})

/** A normalised POI as the pipeline makes it, with text that COPY's format must escape. */
function poi(osmId: number, name: string, extraTags: Record<string, string> = {}) {
  const record = {
    osm_type: 'node',
    osm_id: osmId,
    category: 'museum',
    name_ru: name,
    name_source: 'name',
    names: { name },
    tags: { tourism: 'museum', name, ...extraTags },
    lat: 56.31 + osmId / 1e6,
    lon: 38.13,
    wikidata: null,
    wikipedia: null,
    website: null,
    opening_hours: null,
    phone: null,
    address: null,
    heritage: null,
    source_url: `https://www.openstreetmap.org/node/${osmId}`,
    osm_version: 3,
    osm_timestamp: '2020-05-01T10:00:00Z',
    license: 'ODbL-1.0',
    attribution: '© OpenStreetMap contributors',
  }
  return { ...record, content_hash: contentHash(record) }
}

async function* from<T>(items: readonly T[], before?: () => Promise<void>): AsyncGenerator<T> {
  if (before) await before()
  yield* items
}

async function stage(
  records: AsyncIterable<ReturnType<typeof poi>>,
  opts: { runId?: string; batchSize?: number; resumeAt?: number; yieldAfterBatches?: number } = {},
) {
  const runId = opts.runId ?? (await insertRunningRun(database.db))
  let batches = 0
  const run: StagingRun = {
    db: database.db,
    ...(database.kind === 'postgres' ? { pool: database.pool } : {}),
    cityId,
    runId,
    batchSize: opts.batchSize ?? 3,
    resumeAt: opts.resumeAt ?? 0,
    checkpointAt: (through) =>
      ({
        phase: 'items',
        data: { path: null, source: { kind: 'file', bytes: 0 } },
        items: { through },
      }) as Checkpoint,
    progress: async () => {
      batches++
    },
    shouldYield: () => opts.yieldAfterBatches !== undefined && batches >= opts.yieldAfterBatches,
  }
  const outcome = await stageRecords(run, SPEC, records, (trx, result) =>
    writeCheckpoint(trx, runId, { phase: 'done', stats: { ...result } }),
  )
  return { runId, outcome }
}

async function staged() {
  const { rows } = await sql<{
    osm_id: number
    name_ru: string
    tags: Record<string, string>
    change_state: string
    content_hash: string
  }>`SELECT osm_id, name_ru, tags, ${changeStateOf('s', 'osm')} AS change_state, content_hash
      FROM poi_ingestion_staging s ORDER BY osm_id`.execute(database.db)
  return rows
}

async function checkpointThrough(runId: string): Promise<number> {
  const { rows } = await sql<{ through: number }>`
    SELECT (checkpoint->'items'->>'through')::int AS through FROM ingestion_run WHERE id = ${runId}`.execute(
    database.db,
  )
  return rows[0]!.through
}

async function finishRun(runId: string, status: 'SUCCEEDED' | 'FAILED') {
  await sql`UPDATE ingestion_run SET status = ${status}, finished_at = clock_timestamp(),
              error_code = ${status === 'FAILED' ? 'TEST' : null} WHERE id = ${runId}`.execute(database.db)
}

const statesById = async () => Object.fromEntries((await staged()).map((r) => [r.osm_id, r.change_state]))

describe('stageRecords', () => {
  it('derives each row state from the latest successful run, and a run that changes nothing writes nothing', async () => {
    const base = [poi(1, 'Музей'), poi(2, 'Галерея'), poi(3, 'Собор')]
    const first = await stage(from(base))
    expect(await statesById()).toEqual({ 1: 'new', 2: 'new', 3: 'new' })
    await finishRun(first.runId, 'SUCCEEDED')
    expect(await statesById()).toEqual({ 1: 'new', 2: 'new', 3: 'new' })

    const versions = () =>
      sql`SELECT osm_id, xmin::text AS v FROM poi_ingestion_staging ORDER BY osm_id`.execute(database.db)
    const before = (await versions()).rows
    const again = await stage(from(base))
    expect(again.outcome).toMatchObject({ new: 0, changed: 0, unchanged: 3, missing: 0 })
    expect((await versions()).rows).toEqual(before)
    // Until the second run succeeds, the first is the reference.
    expect(await statesById()).toEqual({ 1: 'new', 2: 'new', 3: 'new' })
    await finishRun(again.runId, 'SUCCEEDED')
    expect(await statesById()).toEqual({ 1: 'unchanged', 2: 'unchanged', 3: 'unchanged' })

    // A run that renames one, drops one and adds one, then fails after closing: what it wrote is
    // newer than the latest successful run, so it shows as such.
    const failed = await stage(from([poi(1, 'Музей (новое имя)'), poi(3, 'Собор'), poi(4, 'Сквер')]))
    await finishRun(failed.runId, 'FAILED')
    expect(await statesById()).toEqual({ 1: 'changed', 2: 'missing', 3: 'unchanged', 4: 'new' })
    // The next successful run sees the same data: nothing to write, everything unchanged but the gone one.
    const next = await stage(from([poi(1, 'Музей (новое имя)'), poi(3, 'Собор'), poi(4, 'Сквер')]))
    expect(next.outcome).toMatchObject({ new: 0, changed: 0, unchanged: 3, missing: 0 })
    await finishRun(next.runId, 'SUCCEEDED')
    expect(await statesById()).toEqual({ 1: 'unchanged', 2: 'missing', 3: 'unchanged', 4: 'unchanged' })
  })

  it('keeps tabs, newlines, backslashes and quotes in names and tags exactly as read', async () => {
    const tricky = 'Музей «Игрушки»\tзал 1\nвход со двора \\ "главный"'
    const records = [
      poi(1, tricky, { note: 'C:\\путь\\N', description: 'строка 1\r\nстрока 2' }),
      poi(2, 'Музей'),
    ]
    const { outcome } = await stage(from(records))
    expect(outcome).toMatchObject({ status: 'done', kept: 2, new: 2, changed: 0, unchanged: 0, missing: 0 })
    const rows = await staged()
    expect(rows[0]).toMatchObject({
      name_ru: tricky,
      tags: { note: 'C:\\путь\\N', description: 'строка 1\r\nстрока 2', name: tricky },
      content_hash: records[0]!.content_hash,
    })
  })

  it('writes a batch whose new key another run staged meanwhile once, without failing the run', async () => {
    const records = [poi(10, 'Первый'), poi(11, 'Второй'), poi(12, 'Третий')]
    const other = await insertRunningRun(database.db)
    // After the city's staged keys were read, and before the batch is written, another run stages key 11.
    const race = async () => {
      await stage(from([records[1]!]), { runId: other })
    }
    const { runId, outcome } = await stage(from(records, race), { batchSize: 10 })
    expect(outcome).toMatchObject({ status: 'done', kept: 3, new: 2, changed: 0, unchanged: 1 })
    const rows = await staged()
    expect(rows.map((r) => r.osm_id)).toEqual([10, 11, 12])
    const { rows: writers } = await sql<{ osm_id: number; first_seen_run: string }>`
      SELECT osm_id, first_seen_run FROM poi_ingestion_staging ORDER BY osm_id`.execute(database.db)
    expect(writers.map((w) => w.first_seen_run)).toEqual([runId, other, runId])
  })

  it('a run resumed from its checkpoint stages and counts exactly what one uninterrupted run does', async () => {
    const base = Array.from({ length: 20 }, (_, i) => poi(100 + i, `Объект ${i}`))
    await stage(from(base))
    // The next data: 5 renamed, 3 gone, 5 new.
    const next = [
      ...base.slice(3).map((r, i) => (i % 4 === 0 ? poi(r.osm_id, `${r.name_ru} (новое имя)`) : r)),
      ...Array.from({ length: 5 }, (_, i) => poi(200 + i, `Новый ${i}`)),
    ]
    const whole = await stage(from(next), { batchSize: 2 })
    const once = await staged()

    await sql`DELETE FROM poi_ingestion_staging`.execute(database.db)
    await stage(from(base))
    const runId = await insertRunningRun(database.db)
    let deliveries = 0
    let outcome: Awaited<ReturnType<typeof stage>>['outcome'] = { status: 'yielded' }
    while (outcome.status === 'yielded') {
      deliveries++
      const resumeAt = deliveries === 1 ? 0 : await checkpointThrough(runId)
      ;({ outcome } = await stage(from(next), { runId, batchSize: 2, resumeAt, yieldAfterBatches: 1 }))
    }
    expect(deliveries).toBeGreaterThan(3)
    expect(outcome).toEqual(whole.outcome)
    expect(outcome).toMatchObject({ kept: 22, new: 5, changed: 5, unchanged: 12, missing: 3 })
    expect(await staged()).toEqual(once)
  })
})
