import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { configFrom } from '../../src/config.js'
import { createIngestionHandlers } from '../../src/modules/ingestion/index.js'
import { PermanentJobError, TransientJobError } from '../../src/platform/jobs/types.js'
import { createLogger } from '../../src/platform/log.js'
import { createJobContext, insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'
import { type LocalServer, startLocalServer } from './local-http-server.js'
import { resetStaging, stagedPois } from './pipeline-fixtures.js'

const RELATION = 171922

/** A boundary answer as Overpass gives it for `out geom`: one outer way around the Lavra and west of it. */
function boundaryAnswer(name: string): string {
  const ring = [
    [38.12, 56.3],
    [38.132, 56.3],
    [38.132, 56.32],
    [38.12, 56.32],
    [38.12, 56.3],
  ]
  return JSON.stringify({
    version: 0.6,
    generator: 'test',
    elements: [
      {
        type: 'relation',
        id: RELATION,
        members: [
          { type: 'way', ref: 1, role: 'outer', geometry: ring.map(([lon, lat]) => ({ lat, lon })) },
          { type: 'node', ref: 191892583, role: 'admin_centre', lat: 56.3153529, lon: 38.1358208 },
        ],
        tags: { boundary: 'administrative', admin_level: '6', name },
      },
    ],
  })
}

let database: TestDatabase
let tmp: string
let server: LocalServer
let derived: string
/** What the fake interpreter answers to a data query (the boundary query always gets `boundaryName`). */
let dataAnswer: () => string
let boundaryName: string

function handlers() {
  const config = configFrom({
    WORK_DIR: join(tmp, 'work'),
    INGEST_BATCH_SIZE: '10',
    OVERPASS_URLS: `${server.url}/api/interpreter`,
    OVERPASS_MAX_TRIES: '1',
  })
  return createIngestionHandlers({ config, log: createLogger('silent'), version: 'test', database })
}

async function failure(run: () => Promise<unknown>): Promise<any> {
  return run().then(
    () => null,
    (e) => e,
  )
}

beforeAll(async () => {
  database = await createTestDatabase()
  tmp = await mkdtemp(join(tmpdir(), 'gorod-pipeline-op-'))
  derived = await readFile(osmFile('sergiev-posad-lavra-2020.pois.DERIVED-overpass-shape.json'), 'utf8')
  server = await startLocalServer((req, res) => {
    const query = new URLSearchParams(req.body).get('data') ?? ''
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(query.includes('out geom') ? boundaryAnswer(boundaryName) : dataAnswer())
  })
})
afterAll(async () => {
  await server?.close()
  await database?.close()
  await rm(tmp, { recursive: true, force: true })
})
beforeEach(async () => {
  await resetStaging(database.db)
  dataAnswer = () => derived
  boundaryName = 'Сергиево-Посадский городской округ'
})
afterEach(() => {
  server.seen.length = 0
})

describeWithOsmData('ingestion pipeline: Overpass source', () => {
  it('fetches and caches the boundary, filters by its polygon and reports the source', async () => {
    const { db } = database
    const runId = await insertRunningRun(db, { source: { kind: 'overpass' } })
    const { outcome } = await runToCompletion(db, handlers().osm, runId)
    const rows = await stagedPois(db)
    expect(rows.length).toBeGreaterThan(10)
    expect(outcome.stats).toMatchObject({
      area_filter: 'polygon',
      kept: rows.length,
      new: rows.length,
      source: { kind: 'overpass', endpoint: `${server.url}/api/interpreter` },
    })
    expect((outcome.stats.source as { bytes: number }).bytes).toBe(Buffer.byteLength(derived))
    expect(rows.find((r) => r.osm_id === 219706573)?.name).toBe('Троице-Сергиева лавра')
    // Everything staged lies inside the polygon; the answer had POIs east of it, which are left out.
    expect(rows.every((r) => r.lon > 38.12 && r.lon < 38.132 && r.lat > 56.3 && r.lat < 56.32)).toBe(true)
    const east = (JSON.parse(derived).elements as Array<{ lon?: number; center?: { lon: number } }>).filter(
      (e) => (e.lon ?? e.center?.lon ?? 0) > 38.133,
    )
    expect(east.length).toBeGreaterThan(5)
    const city = await db
      .selectFrom('cities')
      .select(['boundary', 'boundary_source'])
      .where('slug', '=', 'sergiev-posad')
      .executeTakeFirstOrThrow()
    expect(city.boundary).toHaveLength(1)
    expect(city.boundary_source).toContain(server.url)
    // The query selects by the city's relation, as an area.
    expect(server.seen.map((r) => new URLSearchParams(r.body).get('data'))).toEqual([
      expect.stringContaining(`rel(${RELATION})`),
      expect.stringContaining(`area(id:${3_600_000_000 + RELATION})`),
    ])

    // A second run uses the cached boundary: only the data is fetched.
    server.seen.length = 0
    const again = await insertRunningRun(db, { source: { kind: 'overpass' } })
    const second = await runToCompletion(db, handlers().osm, again)
    expect(server.seen).toHaveLength(1)
    expect(second.outcome.stats).toMatchObject({ new: 0, changed: 0, unchanged: rows.length })
  })

  it('fails for good with BOUNDARY_MISMATCH when the relation is another city, before fetching data', async () => {
    const { db } = database
    boundaryName = 'Москва'
    const runId = await insertRunningRun(db, { source: { kind: 'overpass' } })
    const err = await failure(async () => handlers().osm(await createJobContext(db, runId)))
    expect(err).toBeInstanceOf(PermanentJobError)
    expect(err.code).toBe('BOUNDARY_MISMATCH')
    expect(server.seen).toHaveLength(1)
    expect(await stagedPois(db)).toEqual([])
    const city = await db
      .selectFrom('cities')
      .select('boundary')
      .where('slug', '=', 'sergiev-posad')
      .executeTakeFirstOrThrow()
    expect(city.boundary).toBeNull()
  })

  it('a runtime-error remark is transient (UPSTREAM_RUNTIME_ERROR) and stages nothing', async () => {
    const { db } = database
    dataAnswer = () =>
      `${derived.trimEnd().slice(0, -1)},\n"remark": "runtime error: Query timed out in \\"query\\" at line 3 after 180 seconds."\n}`
    const runId = await insertRunningRun(db, { source: { kind: 'overpass' } })
    const err = await failure(async () => handlers().osm(await createJobContext(db, runId)))
    expect(err).toBeInstanceOf(TransientJobError)
    expect(err.code).toBe('UPSTREAM_RUNTIME_ERROR')
    expect(await stagedPois(db)).toEqual([])
  })

  it('a truncated answer is transient (UPSTREAM_INVALID_RESPONSE) and stages nothing; a later delivery succeeds', async () => {
    const { db } = database
    dataAnswer = () => derived.slice(0, Math.floor(derived.length / 2))
    const runId = await insertRunningRun(db, { source: { kind: 'overpass' } })
    const err = await failure(async () => handlers().osm(await createJobContext(db, runId)))
    expect(err).toBeInstanceOf(TransientJobError)
    expect(err.code).toBe('UPSTREAM_INVALID_RESPONSE')
    expect(await stagedPois(db)).toEqual([])

    // The transport retries the run: this time the upstream answers in full.
    dataAnswer = () => derived
    const { outcome } = await runToCompletion(db, handlers().osm, runId)
    expect(outcome.stats.new).toBe((await stagedPois(db)).length)
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM poi_ingestion_staging`.execute(
      db,
    )
    expect(rows[0]!.n).toBeGreaterThan(10)
  })
})
