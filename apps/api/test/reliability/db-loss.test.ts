import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { configFrom } from '../../src/config.js'
import { createIngestionHandlers } from '../../src/modules/ingestion/index.js'
import type { RunStatus } from '../../src/platform/db/schema.js'
import { createLogger } from '../../src/platform/log.js'
import { runRow } from '../helpers/jobs.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { freePort, spawnEntry, waitForHealth } from '../helpers/process.js'
import { createTestApp, type TestApp } from '../helpers/test-app.js'
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-db.js'
import type { LocalServer } from '../ingestion/local-http-server.js'
import { enqueue, localQueue, serveExtract, sleep, stagedSet } from './fault-helpers.js'

/**
 * The database goes away and comes back: connections are terminated by the server (as on a failover
 * or a restart). Runs in flight retry and finish; health says 503 while the database is away and 200
 * after, and the process survives. Needs real Postgres (its backends are what gets terminated).
 */
const EXTRACT = 'moscow-shabolovka-2020.osm.pbf'
const describePg = onPostgres ? describeWithOsmData : describeWithOsmData.skip

describePg('database connection lost mid-run and restored (real Postgres)', () => {
  let database: TestDatabase
  let admin: pg.Client
  let name: string
  let tmp: string
  let extract: LocalServer
  let t: TestApp
  let queue: Awaited<ReturnType<typeof localQueue>>

  const terminateAll = () =>
    admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    )

  beforeAll(async () => {
    database = await createTestDatabase()
    name = new URL(database.url!).pathname.slice(1)
    admin = new pg.Client({ connectionString: inject('postgres')!.url })
    await admin.connect()
    tmp = await mkdtemp(join(tmpdir(), 'gorod-dbloss-'))
    extract = await serveExtract(osmFile(EXTRACT), EXTRACT)
    const config = configFrom({ WORK_DIR: join(tmp, 'work'), INGEST_BATCH_SIZE: '5' })
    const handlers = createIngestionHandlers({ config, log: createLogger('silent'), version: 'test' })
    queue = await localQueue(database, handlers, { leaseSeconds: 10, maxAttempts: 6 })
    t = await createTestApp({}, { jobs: queue }, database)
  })
  afterAll(async () => {
    await admin?.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {})
    await t?.close()
    await extract?.close()
    await admin?.end()
    await database?.close()
    await rm(tmp, { recursive: true, force: true })
  })

  /** Polls through connection errors: this test's own connections are terminated too. */
  async function waitFor(runId: string, statuses: RunStatus[], ms = 90_000) {
    const deadline = Date.now() + ms
    for (;;) {
      const row = await runRow(database.db, runId).catch(() => null)
      if (row && statuses.includes(row.status)) return row
      if (Date.now() > deadline)
        throw new Error(`run ${runId} not ${statuses.join('|')}: ${JSON.stringify(row)}`)
      await sleep(50)
    }
  }

  it('a run whose connections are cut in the middle retries and finishes, with complete staging', async () => {
    const source = { kind: 'extract', url: `${extract.url}/${EXTRACT}` }
    const runId = await enqueue(t, { city: 'moscow', date: '2032-01-01', source })
    const deadline = Date.now() + 60_000
    for (;;) {
      const row = await runRow(database.db, runId)
      if (row.status === 'RUNNING' && row.progress?.phase === 'items') break
      if (row.status === 'SUCCEEDED' || Date.now() > deadline)
        throw new Error(`never caught mid-run: ${row.status}`)
      await sleep(5)
    }
    const { rowCount } = await terminateAll()
    expect(rowCount).toBeGreaterThan(0)

    const done = await waitFor(runId, ['SUCCEEDED', 'FAILED'])
    expect(done.status, `${done.error_code}: ${done.error_message}`).toBe('SUCCEEDED')
    const staged = await stagedSet(database.db, 'moscow')
    expect(staged.length).toBe((done.stats as { kept: number }).kept)
    expect(new Set(staged.map((r) => `${r.osm_type}/${r.osm_id}`)).size).toBe(staged.length)

    // A second run of the same data finds nothing new or changed: the interrupted one wrote it all.
    const again = await enqueue(t, { city: 'moscow', date: '2032-01-02', source })
    const second = await waitFor(again, ['SUCCEEDED', 'FAILED'])
    expect(second.stats).toMatchObject({ new: 0, changed: 0, missing: 0 })
  })

  it('health answers 503 while the database is away and 200 once it is back; the process survives', async () => {
    const port = await freePort()
    const service = spawnEntry('main.ts', [], {
      DATABASE_URL: database.url!,
      PORT: String(port),
      WORKER_ENABLED: 'false',
    })
    try {
      await waitForHealth(port, service)
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
      await terminateAll()
      const statusNow = async () => (await fetch(`http://127.0.0.1:${port}/v1/api/health`)).status
      let status = await statusNow()
      for (let i = 0; i < 100 && status !== 503; i++) {
        await sleep(100)
        status = await statusNow()
      }
      expect(status).toBe(503)
      const cities = await fetch(`http://127.0.0.1:${port}/v1/cities`, {
        headers: { 'X-App-Key': 'dev-gorod-app-key' },
      })
      expect(cities.status).toBe(503)
      expect(cities.headers.get('content-type')).toBe('application/problem+json')

      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
      for (let i = 0; i < 100 && status !== 200; i++) {
        await sleep(100)
        status = await statusNow()
      }
      expect(status).toBe(200)
      expect(service.child.exitCode).toBeNull()
    } finally {
      service.child.kill('SIGTERM')
      await service.exited
    }
  })
})
