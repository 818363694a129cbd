import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runRow, waitForStatus } from '../helpers/jobs.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { freePort, type Spawned, spawnEntry, waitForHealth } from '../helpers/process.js'
import { ADMIN_TOKEN, createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-db.js'
import { type LocalServer, startLocalServer } from '../ingestion/local-http-server.js'
import { enqueue, localQueue, sleep, stagedSet } from './fault-helpers.js'

/**
 * SIGTERM to the service under load: every request sent before the signal is answered (no reset), the
 * run in flight is handed back QUEUED (not FAILED), and a second process finishes it.
 */
const EXTRACT = 'moscow-shabolovka-2020.osm.pbf'

let database: TestDatabase
let t: TestApp
let extract: LocalServer
let tmp: string
let slow = true
const procs: Spawned[] = []

function startService(port: number): Spawned {
  const s = spawnEntry('main.ts', [], {
    DATABASE_URL: database.url!,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKER_ENABLED: 'true',
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    JOB_LEASE_SECONDS: '30',
    WORK_DIR: join(tmp, `work-${procs.length}`),
  })
  procs.push(s)
  return s
}

const describePg = onPostgres ? describeWithOsmData : describeWithOsmData.skip

describePg('graceful shutdown under load (needs real Postgres: a second process)', () => {
  beforeAll(async () => {
    database = await createTestDatabase()
    tmp = await mkdtemp(join(tmpdir(), 'gorod-term-'))
    // The extract trickles out while `slow`: the run stays in its download until the test lets it go.
    extract = await startLocalServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const stream = createReadStream(osmFile(EXTRACT), { highWaterMark: 4096 })
      for await (const chunk of stream) {
        if (res.destroyed) return
        res.write(chunk)
        if (slow) await sleep(200)
      }
      res.end()
    })
    t = await createTestApp({}, { jobs: await localQueue(database, null) }, database)
  })
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
    await t?.close()
    await extract?.close()
    await database?.close()
    await rm(tmp, { recursive: true, force: true })
  })

  it('answers every request sent before SIGTERM, releases the run QUEUED, and another process finishes it', async () => {
    const port = await freePort()
    const first = startService(port)
    await waitForHealth(port, first)
    const source = { kind: 'extract', url: `${extract.url}/${EXTRACT}` }
    const runId = await enqueue(t, { city: 'moscow', date: '2031-06-01', source })
    await waitForStatus(database.db, runId, ['RUNNING'], 30_000)

    const base = `http://127.0.0.1:${port}`
    const inFlight = Array.from({ length: 200 }, (_, i) =>
      fetch(i % 2 ? `${base}/v1/cities` : `${base}/v1/api/health`, {
        headers: { 'X-App-Key': DEV_KEYS.gorod },
      }).then(
        async (r) => ({ status: r.status, ok: (await r.text()).length > 0 }),
        (err: Error) => ({ status: 0, ok: false, error: String(err.cause ?? err) }),
      ),
    )
    await sleep(20) // the requests are on the wire
    first.child.kill('SIGTERM')
    const answers = await Promise.all(inFlight)
    const failed = answers.filter((a) => a.status !== 200)
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([])
    expect(await first.exited).toBe(0)

    const released = await runRow(database.db, runId)
    expect(released.status).toBe('QUEUED')
    expect(released.error_code).toBeNull()

    slow = false
    const secondPort = await freePort()
    const second = startService(secondPort)
    await waitForHealth(secondPort, second)
    const done = await waitForStatus(database.db, runId, ['SUCCEEDED', 'FAILED'], 60_000)
    expect(done.status, `${done.error_code} ${done.error_message}`).toBe('SUCCEEDED')
    expect((await stagedSet(database.db, 'moscow')).length).toBeGreaterThan(10)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})
