import type { ServerResponse } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CALLBACK_PATH, createQStashQueue, deduplicationId } from '../../src/platform/jobs/qstash-queue.js'
import { json, jsonRequest } from '../helpers/http.js'
import { PUBLIC_BASE_URL, QSTASH_TOKEN, qstashEnv, SECRETS } from '../helpers/qstash-signer.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'
import { type LocalServer, type SeenRequest, startLocalServer } from '../ingestion/local-http-server.js'

const MAX_ATTEMPTS = 4
const PUBLISH_PATH = `/v2/publish/${PUBLIC_BASE_URL}${CALLBACK_PATH}`

/** How the stand-in for the QStash API answers the n-th publish of the current test. */
let answer: (n: number) => number = () => 201
let offset = 0

let t: TestApp
let qstash: LocalServer

beforeAll(async () => {
  qstash = await startLocalServer((_req: SeenRequest, res: ServerResponse, n: number) => {
    const status = answer(n - offset)
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(status < 300 ? { messageId: `msg_${n}` } : { error: 'internal error' }))
  })
  t = await createTestApp(
    qstashEnv(qstash.url, { JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS) }),
    (config, log) => ({
      jobs: createQStashQueue(config.jobs.qstash!, { log, maxAttempts: config.jobs.maxAttempts }),
    }),
  )
})
afterAll(async () => {
  await t?.close()
  await qstash?.close()
})
beforeEach(() => {
  answer = () => 201
  offset = qstash.seen.length
})

const published = () => qstash.seen.slice(offset)
const enqueue = (body: unknown) =>
  t.app.request('/v1/admin/ingestion/helpers/enqueue', jsonRequest(body, { 'X-Admin-Token': ADMIN_TOKEN }))
const runsFor = (key: string) =>
  t.database.db.selectFrom('ingestion_run').selectAll().where('idempotency_key', '=', key).execute()

describe('enqueue on the QStash transport', () => {
  it('publishes the new run once, to the callback, under a deduplication id derived from the run id', async () => {
    const res = await enqueue({ city: 'kazan', date: '2026-07-01' })
    expect(res.status).toBe(202)
    const { job_id } = await json(res)

    expect(published()).toHaveLength(1)
    const [p] = published()
    expect(p!.method).toBe('POST')
    expect(p!.path).toBe(PUBLISH_PATH)
    expect(p!.headers.authorization).toBe(`Bearer ${QSTASH_TOKEN}`)
    expect(p!.headers['upstash-deduplication-id']).toBe(deduplicationId(job_id))
    // QStash's retries come on top of the first delivery: attempts in all = JOB_MAX_ATTEMPTS.
    expect(p!.headers['upstash-retries']).toBe(String(MAX_ATTEMPTS - 1))
    expect(p!.headers['upstash-method']).toBe('POST')
    expect(p!.headers['content-type']).toBe('application/json')
    expect(JSON.parse(p!.body)).toEqual({ run_id: job_id })
    // Nothing ran here: the run waits for QStash's delivery.
    expect(await runsFor('helpers|kazan|3446524|2026-07-01')).toMatchObject([
      { status: 'QUEUED', attempts: 0 },
    ])
  })

  it('answers a second enqueue of the same key with the same run, re-published under the same id', async () => {
    const first = await json(await enqueue({ city: 'kazan', date: '2026-07-02' }))
    const again = await enqueue({ city: 'kazan', date: '2026-07-02' })
    expect(again.status).toBe(202)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await json(again)).toMatchObject({ job_id: first.job_id, deduplicated: true, status: 'QUEUED' })
    expect(await runsFor('helpers|kazan|3446524|2026-07-02')).toHaveLength(1)

    // The run is still QUEUED, so it is re-published, but under the same id: QStash drops the duplicate.
    const ids = published().map((p) => p.headers['upstash-deduplication-id'])
    expect(ids).toEqual([deduplicationId(first.job_id), deduplicationId(first.job_id)])
  })

  it('does not re-publish a run that already left the queue', async () => {
    const first = await json(await enqueue({ city: 'kazan', date: '2026-07-03' }))
    await t.database.db
      .updateTable('ingestion_run')
      .set({ status: 'SUCCEEDED', finished_at: new Date(), stats: JSON.stringify({}) })
      .where('id', '=', first.job_id)
      .execute()
    const again = await enqueue({ city: 'kazan', date: '2026-07-03' })
    expect(await json(again)).toMatchObject({ job_id: first.job_id, deduplicated: true, status: 'SUCCEEDED' })
    expect(published()).toHaveLength(1)
  })

  it('retries a publish the QStash API answered with a 500', async () => {
    answer = (n) => (n === 1 ? 500 : 201)
    const res = await enqueue({ city: 'kazan', date: '2026-07-04' })
    expect(res.status).toBe(202)
    const { job_id } = await json(res)
    expect(published()).toHaveLength(2)
    expect(published().map((p) => p.headers['upstash-deduplication-id'])).toEqual([
      deduplicationId(job_id),
      deduplicationId(job_id),
    ])
  })

  it('keeps the run when QStash stays down, answers 503 saying so, and publishes on the next enqueue', async () => {
    answer = () => 500
    const res = await enqueue({ city: 'kazan', date: '2026-07-05' })
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const problem = await json(res)
    expect(problem.code).toBe('SERVICE_UNAVAILABLE')
    const [recorded] = await runsFor('helpers|kazan|3446524|2026-07-05')
    expect(recorded).toMatchObject({ status: 'QUEUED' })
    expect(problem.detail).toContain(recorded!.id)
    // The first try and three retries, all under the run's one deduplication id.
    expect(published().map((p) => p.headers['upstash-deduplication-id'])).toEqual(
      Array(4).fill(deduplicationId(recorded!.id)),
    )

    answer = () => 201
    const before = qstash.seen.length
    const again = await enqueue({ city: 'kazan', date: '2026-07-05' })
    expect(again.status).toBe(202)
    expect(await json(again)).toMatchObject({ job_id: recorded!.id, deduplicated: true })
    const republished = qstash.seen.slice(before)
    expect(republished).toHaveLength(1)
    expect(republished[0]!.headers['upstash-deduplication-id']).toBe(deduplicationId(recorded!.id))
    expect(await runsFor('helpers|kazan|3446524|2026-07-05')).toHaveLength(1)
  })
})

describe('enqueue on the QStash transport, refused publish', () => {
  it('does not retry a publish QStash refused as a bad request, and answers 503', async () => {
    answer = () => 400
    const res = await enqueue({ city: 'kazan', date: '2026-07-06' })
    expect(res.status).toBe(503)
    expect(published()).toHaveLength(1)
    expect(await runsFor('helpers|kazan|3446524|2026-07-06')).toMatchObject([{ status: 'QUEUED' }])
  })
})

describe('log hygiene', () => {
  it('never writes the QStash token, the signing keys, the cron secret or the admin token to the log', () => {
    expect(t.logs.text).toContain('run published to QStash')
    for (const secret of [...SECRETS, ADMIN_TOKEN]) expect(t.logs.text).not.toContain(secret)
  })
})
