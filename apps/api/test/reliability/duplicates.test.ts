import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CALLBACK_PATH, createQStashQueue } from '../../src/platform/jobs/qstash-queue.js'
import type { JobHandler } from '../../src/platform/jobs/types.js'
import { waitForStatus } from '../helpers/jobs.js'
import { PUBLIC_BASE_URL, qstashEnv, SIGNING_KEYS, signQStash } from '../helpers/qstash-signer.js'
import { createTestApp, type TestApp } from '../helpers/test-app.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'
import { type LocalServer, startLocalServer } from '../ingestion/local-http-server.js'
import { enqueue, localQueue, sleep } from './fault-helpers.js'

/**
 * At-least-once transports, exactly-once effects: the same run delivered many times, concurrently
 * and after it finished, is executed once (handler invocations counted per run).
 */

const calls = new Map<string, number>()
const counting: JobHandler = async (ctx) => {
  calls.set(ctx.run.id, (calls.get(ctx.run.id) ?? 0) + 1)
  // Long enough for concurrent deliveries to overlap with the one that holds the run.
  await sleep(300)
  await ctx.progress({ phase: 'work', done: 1, total: 1 })
  return { status: 'succeeded', stats: { ok: 1 } }
}

describe('duplicate and out-of-order deliveries: local queue (pg-boss)', () => {
  let database: TestDatabase
  let t: TestApp
  let queue: Awaited<ReturnType<typeof localQueue>>
  beforeAll(async () => {
    database = await createTestDatabase()
    queue = await localQueue(database, { osm: counting, helpers: counting }, { concurrency: 4 })
    t = await createTestApp({}, { jobs: queue, jobHandlers: { osm: counting, helpers: counting } }, database)
  })
  afterAll(async () => {
    await t?.close()
    await database?.close()
  })

  it('the same run id sent eight times, and again after it finished, runs once', async () => {
    const ids = await Promise.all([1, 2, 3].map((d) => enqueue(t, { city: 'moscow', date: `2031-05-0${d}` })))
    for (const id of ids) for (let i = 0; i < 7; i++) await queue.redeliver(id)
    for (const id of ids) await waitForStatus(database.db, id, ['SUCCEEDED', 'FAILED'])
    for (const id of ids) await queue.redeliver(id) // late
    await sleep(2_500)
    for (const id of ids) {
      expect(calls.get(id)).toBe(1)
      const run = await waitForStatus(database.db, id, ['SUCCEEDED'])
      expect(run.attempts).toBe(1)
    }
  })
})

describe('duplicate and out-of-order deliveries: QStash callback', () => {
  let t: TestApp
  let qstash: LocalServer
  beforeAll(async () => {
    qstash = await startLocalServer((_req, res, n) => {
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ messageId: `msg_${n}` }))
    })
    t = await createTestApp(qstashEnv(qstash.url), (config, log) => ({
      jobs: createQStashQueue(config.jobs.qstash!, { log, maxAttempts: config.jobs.maxAttempts }),
      jobHandlers: { osm: counting, helpers: counting },
    }))
  })
  afterAll(async () => {
    await t?.close()
    await qstash?.close()
  })

  async function deliver(runId: string) {
    const body = JSON.stringify({ run_id: runId })
    const signature = await signQStash({
      key: SIGNING_KEYS.current,
      url: `${PUBLIC_BASE_URL}${CALLBACK_PATH}`,
      body,
    })
    return t.app.request(CALLBACK_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'upstash-signature': signature },
      body,
    })
  }

  it('one signed callback delivered twenty times at once, then late: one execution', async () => {
    const id = await enqueue(t, { city: 'kazan', date: '2031-05-10' })
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(id)))
    const outcomes = await Promise.all(
      answers.map(async (r) => [r.status, ((await r.json()) as { outcome: string }).outcome]),
    )
    expect(outcomes.filter(([s, o]) => s === 200 && o === 'succeeded')).toHaveLength(1)
    expect(outcomes.filter(([s, o]) => s === 200 && o === 'not_claimed')).toHaveLength(19)
    const late = await Promise.all([deliver(id), deliver(id), deliver(id)])
    for (const r of late) expect((await r.json()) as object).toMatchObject({ outcome: 'not_claimed' })
    expect(calls.get(id)).toBe(1)
    const run = await t.database.db
      .selectFrom('ingestion_run')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 1 })
  })
})
