import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import { configFrom } from '../../src/config.js'
import { createIngestionHandlers } from '../../src/modules/ingestion/index.js'
import { PermanentJobError, RunCancelledError } from '../../src/platform/jobs/types.js'
import { createLogger } from '../../src/platform/log.js'
import { createJobContext, insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'
import { resetStaging, stagedPois } from './pipeline-fixtures.js'

const XML = osmFile('sergiev-posad-lavra-2020.osm')
const PBF = osmFile('sergiev-posad-lavra-2020.osm.pbf')
const LAVRA = { osm_type: 'way', osm_id: 219706573 }

let database: TestDatabase
let tmp: string

function handlers(batchSize = 25) {
  const config = configFrom({ WORK_DIR: join(tmp, 'work'), INGEST_BATCH_SIZE: String(batchSize) })
  return createIngestionHandlers({ config, log: createLogger('silent'), version: 'test', database })
}

async function ingestFile(path: string, opts: { batchSize?: number; shouldYield?: () => boolean } = {}) {
  const { db } = database
  const runId = await insertRunningRun(db, { source: { kind: 'file', name: 'lavra.osm' } })
  const done = await runToCompletion(db, handlers(opts.batchSize).osm, runId, {
    filePath: path,
    ...(opts.shouldYield ? { shouldYield: opts.shouldYield } : {}),
  })
  return { runId, stats: done.outcome.stats as Record<string, any>, deliveries: done.deliveries }
}

beforeAll(async () => {
  database = await createTestDatabase()
  tmp = await mkdtemp(join(tmpdir(), 'gorod-pipeline-'))
})
afterAll(async () => {
  await database?.close()
  await rm(tmp, { recursive: true, force: true })
})
beforeEach(async () => {
  await resetStaging(database.db)
})

describeWithOsmData('ingestion pipeline: local file → poi_ingestion_staging', () => {
  it('stages the Trinity Lavra with its Russian name, category and position, and counts a first run as new', async () => {
    const { runId, stats } = await ingestFile(XML)
    const rows = await stagedPois(database.db)
    expect(rows.length).toBeGreaterThan(20)
    const lavra = rows.find((r) => r.osm_type === LAVRA.osm_type && r.osm_id === LAVRA.osm_id)
    expect(lavra).toMatchObject({ category: 'monastery', name: 'Троице-Сергиева лавра', wikidata: 'Q211962' })
    expect(lavra!.lat).toBeCloseTo(56.3107, 3)
    expect(lavra!.lon).toBeCloseTo(38.1302, 3)
    expect(stats).toMatchObject({
      target: 'poi',
      read: { nodes: 6688, ways: 1254, relations: 98 },
      kept: rows.length,
      new: rows.length,
      changed: 0,
      unchanged: 0,
      missing: 0,
      // The extract does not hold the city's boundary relation: the city's bbox stands in.
      area_filter: 'bbox',
      source: { kind: 'file', name: 'lavra.osm' },
    })
    expect(rows.every((r) => r.change_state === 'new')).toBe(true)
    const { rows: writers } = await sql<{ run: string }>`
      SELECT DISTINCT last_changed_run AS run FROM poi_ingestion_staging`.execute(database.db)
    expect(writers.map((w) => w.run)).toEqual([runId])
  })

  it('stages the same set from the XML and the PBF of the same data', async () => {
    await ingestFile(XML)
    const fromXml = await stagedPois(database.db)
    await resetStaging(database.db)
    await ingestFile(PBF)
    expect(await stagedPois(database.db)).toEqual(fromXml)
  })

  it('writes no row when the same file is ingested again: all unchanged, no row version touched', async () => {
    const first = await ingestFile(XML)
    // xmin names the transaction that wrote a row's current version: any write, even one that changes
    // nothing but a state column, gives the row a new one.
    const versions = () =>
      sql<{ osm_id: number; version: string; updated_at: Date }>`
        SELECT osm_id, xmin::text AS version, updated_at FROM poi_ingestion_staging
        ORDER BY osm_type, osm_id`.execute(database.db)
    const before = await versions()
    const second = await ingestFile(PBF)
    expect(second.stats).toMatchObject({ new: 0, changed: 0, unchanged: first.stats.kept, missing: 0 })
    const third = await ingestFile(XML)
    expect(third.stats).toMatchObject({ new: 0, changed: 0, unchanged: first.stats.kept, missing: 0 })
    expect((await versions()).rows).toEqual(before.rows)
    const states = (await stagedPois(database.db)).map((r) => r.change_state)
    expect(new Set(states)).toEqual(new Set(['unchanged']))
  })

  it('marks a removed object missing (keeps the row) and an object with a changed tag changed', async () => {
    const first = await ingestFile(XML)
    const xml = await readFile(XML, 'utf8')
    const withoutLavra = xml.replace(/<way id='219706573'[\s\S]*?<\/way>\n/, '')
    expect(withoutLavra.length).toBeLessThan(xml.length)
    // Блинная гора, a viewpoint node: its name changes.
    const renamed = withoutLavra.replace("v='Блинная гора'", "v='Блинная гора (смотровая)'")
    expect(renamed).not.toBe(withoutLavra)
    const modified = join(tmp, 'lavra-modified.osm')
    await writeFile(modified, renamed)

    const second = await ingestFile(modified)
    expect(second.stats).toMatchObject({
      new: 0,
      changed: 1,
      missing: 1,
      unchanged: first.stats.kept - 2,
      kept: first.stats.kept - 1,
    })
    const rows = await stagedPois(database.db)
    expect(rows).toHaveLength(first.stats.kept)
    expect(rows.find((r) => r.osm_id === LAVRA.osm_id)?.change_state).toBe('missing')
    const hill = rows.find((r) => r.name === 'Блинная гора (смотровая)')
    expect(hill?.change_state).toBe('changed')

    // The object comes back unchanged: present again, no longer missing.
    const third = await ingestFile(XML)
    expect(third.stats).toMatchObject({ new: 0, changed: 2, missing: 0 })
    const back = (await stagedPois(database.db)).find((r) => r.osm_id === LAVRA.osm_id)
    expect(back?.change_state).toBe('changed')
    const { rows: missingSince } = await sql<{ missing_since: Date | null }>`
      SELECT missing_since FROM poi_ingestion_staging WHERE osm_id = ${LAVRA.osm_id}`.execute(database.db)
    expect(missingSince[0]?.missing_since).toBeNull()
  })

  it('refuses an empty source for a city that has data, marking nothing missing', async () => {
    const first = await ingestFile(XML)
    const empty = join(tmp, 'empty.osm')
    await writeFile(empty, "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n</osm>\n")
    const err = await ingestFile(empty).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentJobError)
    expect((err as PermanentJobError).code).toBe('EMPTY_RESULT')
    const rows = await stagedPois(database.db)
    expect(rows).toHaveLength(first.stats.kept)
    expect(rows.filter((r) => r.change_state === 'missing')).toHaveLength(0)
  })

  it('a run cut into many slices stages exactly what one uninterrupted run stages', async () => {
    const whole = await ingestFile(XML, { batchSize: 7 })
    const once = await stagedPois(database.db)
    await resetStaging(database.db)
    const sliced = await ingestFile(XML, { batchSize: 7, shouldYield: () => true })
    expect(sliced.deliveries).toBeGreaterThanOrEqual(Math.ceil(whole.stats.kept / 7))
    expect(await stagedPois(database.db)).toEqual(once)
    expect({ ...sliced.stats }).toEqual({ ...whole.stats })
  })

  it('a delivery that fails part-way leaves staging consistent and the next delivery finishes without duplicates', async () => {
    const { db } = database
    const whole = await ingestFile(XML, { batchSize: 5 })
    const once = await stagedPois(db)
    await resetStaging(db)

    const runId = await insertRunningRun(db, { source: { kind: 'file', name: 'lavra.osm' } })
    const handler = handlers(5).osm
    const ctx = await createJobContext(db, runId, { filePath: XML })
    const progress = ctx.progress
    ctx.progress = async (p) => {
      await progress(p)
      // The connection "drops" once the third batch has committed.
      if (p.phase === 'items' && (await stagedPois(db)).length >= 15) throw new Error('connection lost')
    }
    await expect(handler(ctx)).rejects.toThrow('connection lost')
    const partial = await stagedPois(db)
    expect(partial).toHaveLength(15)
    const resumed = await runToCompletion(db, handler, runId, { filePath: XML })
    expect(await stagedPois(db)).toEqual(once)
    expect(resumed.outcome.stats).toMatchObject({ new: whole.stats.new, changed: 0, unchanged: 0 })
  })

  it('stops with RunCancelledError at the next batch once the run is cancelled', async () => {
    const { db } = database
    const runId = await insertRunningRun(db, { source: { kind: 'file', name: 'lavra.osm' } })
    await db.updateTable('ingestion_run').set({ cancel_requested: true }).where('id', '=', runId).execute()
    const ctx = await createJobContext(db, runId, { filePath: XML })
    await expect(handlers().osm(ctx)).rejects.toBeInstanceOf(RunCancelledError)
    expect(await stagedPois(db)).toEqual([])
  })

  it('fails permanently when the local file is not available to this process, or is not OSM data', async () => {
    const { db } = database
    const noFile = await insertRunningRun(db, { source: { kind: 'file', name: 'lavra.osm' } })
    const err = await handlers()
      .osm(await createJobContext(db, noFile))
      .catch((e) => e)
    expect(err).toBeInstanceOf(PermanentJobError)
    expect(err.code).toBe('SOURCE_NOT_AVAILABLE')

    const broken = join(tmp, 'broken.osm')
    const xml = await readFile(XML, 'utf8')
    await writeFile(broken, xml.slice(0, Math.floor(xml.length / 2)))
    const runId = await insertRunningRun(db, { source: { kind: 'file', name: 'broken.osm' } })
    const err2 = await handlers()
      .osm(await createJobContext(db, runId, { filePath: broken }))
      .catch((e) => e)
    expect(err2).toBeInstanceOf(PermanentJobError)
    expect(err2.code).toBe('SOURCE_INVALID')
    expect(await stagedPois(db)).toEqual([])
  })

  it('stages helper places in helper_place and leaves POI staging alone', async () => {
    const { db } = database
    const runId = await insertRunningRun(db, { type: 'helpers', source: { kind: 'file', name: 'lavra.osm' } })
    const { outcome } = await runToCompletion(db, handlers().helpers, runId, { filePath: XML })
    const { rows } = await sql<{ kind: string; n: number }>`
      SELECT kind, count(*)::int AS n FROM helper_place GROUP BY kind ORDER BY kind`.execute(db)
    const total = rows.reduce((sum, r) => sum + r.n, 0)
    expect(total).toBeGreaterThan(0)
    expect(outcome.stats).toMatchObject({ target: 'helpers', kept: total, new: total })
    expect(await stagedPois(db)).toEqual([])
  })
})
