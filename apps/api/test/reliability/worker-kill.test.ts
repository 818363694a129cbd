import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { changeStateOf } from '../../src/modules/ingestion/index.js'
import { runRow, waitForStatus } from '../helpers/jobs.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { type Spawned, spawnEntry } from '../helpers/process.js'
import { createTestApp, type TestApp } from '../helpers/test-app.js'
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-db.js'
import type { LocalServer } from '../ingestion/local-http-server.js'
import { enqueue, localQueue, serveExtract, sleep, stagedSet } from './fault-helpers.js'

/**
 * A worker process killed with SIGKILL in the middle of an ingestion: its run is taken over by a second
 * worker process once the lease expires and ends SUCCEEDED, and staging holds exactly what an
 * uninterrupted run stages: same rows, same content hashes, no duplicates, nothing lost.
 */
const EXTRACT = 'moscow-shabolovka-2020.osm.pbf'
const LEASE_SECONDS = 10

let database: TestDatabase
let t: TestApp
let extract: LocalServer
let tmp: string
const workers: Spawned[] = []

function startWorker(): Spawned {
  const w = spawnEntry('cli.ts', ['worker'], {
    DATABASE_URL: database.url!,
    JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    JOB_MAX_ATTEMPTS: '5',
    INGEST_BATCH_SIZE: '5',
    WORK_DIR: join(tmp, `work-${workers.length}`),
    // Staging is what this test compares: no tours are imported onto the POIs it deletes between runs.
    CONTENT_DIR: join(tmp, 'no-content'),
    BLOB_DIR: join(tmp, 'blobs'),
    LOG_LEVEL: 'info',
  })
  workers.push(w)
  return w
}

const describePg = onPostgres ? describeWithOsmData : describeWithOsmData.skip

describePg('worker process killed mid-ingestion (needs real Postgres: separate processes)', () => {
  beforeAll(async () => {
    database = await createTestDatabase()
    tmp = await mkdtemp(join(tmpdir(), 'gorod-kill-'))
    extract = await serveExtract(osmFile(EXTRACT), EXTRACT)
    const queue = await localQueue(database, null)
    t = await createTestApp({}, { jobs: queue }, database)
  })
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
    await t?.close()
    await extract?.close()
    await database?.close()
    await rm(tmp, { recursive: true, force: true })
  })

  it('SIGKILL mid-run → a second worker finishes it after the lease; staging equals an uninterrupted run', async () => {
    const source = { kind: 'extract', url: `${extract.url}/${EXTRACT}` }
    const runId = await enqueue(t, { city: 'moscow', date: '2031-03-01', source })
    const first = startWorker()

    // Wait until the first worker is writing batches, then kill it outright.
    const deadline = Date.now() + 60_000
    let seen = await runRow(database.db, runId)
    while (!(seen.status === 'RUNNING' && seen.progress?.phase === 'items')) {
      if (Date.now() > deadline || seen.status === 'SUCCEEDED' || seen.status === 'FAILED')
        throw new Error(`never saw the run mid-way: ${seen.status} ${JSON.stringify(seen.progress)}`)
      await sleep(10)
      seen = await runRow(database.db, runId)
    }
    first.child.kill('SIGKILL')
    await first.exited
    const orphan = await runRow(database.db, runId)
    expect(orphan.status).toBe('RUNNING')

    startWorker()
    const done = await waitForStatus(database.db, runId, ['SUCCEEDED', 'FAILED'], 90_000)
    expect(done.status, `${done.error_code}: ${done.error_message}`).toBe('SUCCEEDED')
    expect(done.attempts).toBeGreaterThanOrEqual(2)
    const recovered = await stagedSet(database.db, 'moscow')
    expect(recovered.length).toBeGreaterThan(10)
    expect(new Set(recovered.map((r) => `${r.osm_type}/${r.osm_id}`)).size).toBe(recovered.length)
    const { rows: states } = await sql<{ change_state: string }>`
      SELECT DISTINCT ${changeStateOf('s', 'osm')} AS change_state FROM poi_ingestion_staging s`.execute(
      database.db,
    )
    expect(states.map((s) => s.change_state)).toEqual(['new'])

    // The reference: the same extract, staging emptied, one uninterrupted run on the surviving worker.
    // First let the publish run the osm run chained finish: it writes `poi` rows that point at staging.
    for (let i = 0; i < 600; i++) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ingestion_run WHERE status IN ('QUEUED', 'RUNNING')`.execute(
        database.db,
      )
      if (rows[0]!.n === 0) break
      await sleep(100)
    }
    await sql`DELETE FROM poi`.execute(database.db)
    await sql`DELETE FROM poi_ingestion_staging`.execute(database.db)
    const refId = await enqueue(t, { city: 'moscow', date: '2031-03-02', source })
    const ref = await waitForStatus(database.db, refId, ['SUCCEEDED', 'FAILED'], 60_000)
    expect(ref.status).toBe('SUCCEEDED')
    expect(ref.attempts).toBe(1)
    expect(await stagedSet(database.db, 'moscow')).toEqual(recovered)
    expect((ref.stats as { kept: number }).kept).toBe(recovered.length)
  })
})
