import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CALLBACK_PATH, createQStashQueue, deduplicationId } from '../../src/platform/jobs/qstash-queue.js'
import {
  type JobContext,
  type JobHandler,
  PermanentJobError,
  TransientJobError,
} from '../../src/platform/jobs/types.js'
import { json, jsonRequest } from '../helpers/http.js'
import { PUBLIC_BASE_URL, qstashEnv, SECRETS, SIGNING_KEYS, signQStash } from '../helpers/qstash-signer.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'
import { onPostgres } from '../helpers/test-db.js'
import { type LocalServer, startLocalServer } from '../ingestion/local-http-server.js'

const MAX_ATTEMPTS = 3
const CALLBACK_URL = `${PUBLIC_BASE_URL}${CALLBACK_PATH}`

/** Each run gets its own behaviour: the registered handlers only look it up by run id. */
const scenarios = new Map<string, JobHandler>()
const calls = new Map<string, number>()
const dispatch: JobHandler = async (ctx) => {
  calls.set(ctx.run.id, (calls.get(ctx.run.id) ?? 0) + 1)
  const scenario = scenarios.get(ctx.run.id)
  if (!scenario) throw new PermanentJobError('NO_SCENARIO', `no scenario for ${ctx.run.id}`)
  return scenario(ctx)
}

let t: TestApp
let qstash: LocalServer
let dateSeq = 0

beforeAll(async () => {
  qstash = await startLocalServer((_req, res, n) => {
    res.writeHead(201, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ messageId: `msg_${n}` }))
  })
  t = await createTestApp(
    qstashEnv(qstash.url, { JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS) }),
    (config, log) => ({
      jobs: createQStashQueue(config.jobs.qstash!, { log, maxAttempts: config.jobs.maxAttempts }),
      jobHandlers: { osm: dispatch, helpers: dispatch },
    }),
  )
})
afterAll(async () => {
  await t?.close()
  await qstash?.close()
})

/** A new queued run (admin enqueue over HTTP) that behaves as `handler` when delivered. */
async function newRun(handler: JobHandler): Promise<string> {
  dateSeq += 1
  const date = `2026-06-${String(dateSeq).padStart(2, '0')}`
  const res = await t.app.request(
    '/v1/admin/ingestion/osm/enqueue',
    jsonRequest({ city: 'moscow', date }, { 'X-Admin-Token': ADMIN_TOKEN }),
  )
  expect(res.status).toBe(202)
  const { job_id } = await json(res)
  scenarios.set(job_id, handler)
  return job_id
}

async function deliver(
  runId: string,
  opts: { key?: string; url?: string; body?: string; signedBody?: string; requestUrl?: string } = {},
) {
  const body = opts.body ?? JSON.stringify({ run_id: runId })
  const signature = await signQStash({
    key: opts.key ?? SIGNING_KEYS.current,
    url: opts.url ?? CALLBACK_URL,
    body: opts.signedBody ?? body,
  })
  return t.app.request(opts.requestUrl ?? CALLBACK_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'upstash-signature': signature },
    body,
  })
}

async function run(id: string) {
  return t.database.db.selectFrom('ingestion_run').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

const succeed: JobHandler = async () => ({ status: 'succeeded', stats: { ok: 1 } })

async function expectSignatureRefused(res: Response) {
  expect(res.status).toBe(401)
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  expect(await json(res)).toMatchObject({ status: 401, code: 'SIGNATURE_INVALID' })
}

describe('POST /v1/jobs/callback: the signature', () => {
  it('accepts a delivery signed with the current key and runs the job', async () => {
    const id = await newRun(succeed)
    const res = await deliver(id)
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ job_id: id, outcome: 'succeeded', status: 'SUCCEEDED' })
    expect((await run(id)).status).toBe('SUCCEEDED')
  })

  it('accepts a delivery signed with the next key (key rotation)', async () => {
    const id = await newRun(succeed)
    const res = await deliver(id, { key: SIGNING_KEYS.next })
    expect(res.status).toBe(200)
    expect((await run(id)).status).toBe('SUCCEEDED')
  })

  it('checks the URL against PUBLIC_BASE_URL, not the Host the request came in on', async () => {
    const id = await newRun(succeed)
    const res = await deliver(id, { requestUrl: `https://internal-alias.example${CALLBACK_PATH}` })
    expect(res.status).toBe(200)
    expect((await run(id)).status).toBe('SUCCEEDED')
  })

  it('refuses every bad signature with a 401 problem and never runs the job', async () => {
    const id = await newRun(succeed)
    const body = JSON.stringify({ run_id: id })
    const post = (headers: Record<string, string>, b = body) =>
      t.app.request(CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: b,
      })

    // Tampered body: signed for another run id.
    await expectSignatureRefused(await deliver(id, { signedBody: JSON.stringify({ run_id: randomUUID() }) }))
    // Tampered body: the same JSON value with other bytes still breaks the body hash.
    await expectSignatureRefused(
      await deliver(id, { body: JSON.stringify({ run_id: id }, null, 1), signedBody: body }),
    )
    // Signed for another path and for another host.
    await expectSignatureRefused(await deliver(id, { url: `${PUBLIC_BASE_URL}/v1/cron/ingestion` }))
    await expectSignatureRefused(await deliver(id, { url: `https://other.example${CALLBACK_PATH}` }))
    // Signed with a key that is neither of ours.
    await expectSignatureRefused(await deliver(id, { key: 'sig_someone-elses-key-000000' }))
    // Expired, and not yet valid (beyond the 5 s clock tolerance).
    const expired = await signQStash({
      key: SIGNING_KEYS.current,
      url: CALLBACK_URL,
      body,
      issuedAt: -600,
      notBefore: -600,
      expiresIn: -300,
    })
    await expectSignatureRefused(await post({ 'upstash-signature': expired }))
    const early = await signQStash({ key: SIGNING_KEYS.current, url: CALLBACK_URL, body, notBefore: 120 })
    await expectSignatureRefused(await post({ 'upstash-signature': early }))
    // Missing, or not a JWT at all.
    await expectSignatureRefused(await post({}))
    await expectSignatureRefused(await post({ 'upstash-signature': 'not-a-jwt' }))

    expect(calls.get(id)).toBeUndefined()
    expect(await run(id)).toMatchObject({ status: 'QUEUED', attempts: 0 })
  })

  it('refuses every delivery when the signing keys are not configured', async () => {
    const bare = await createTestApp({}, { jobHandlers: { osm: dispatch, helpers: dispatch } }, t.database)
    try {
      const id = await newRun(succeed)
      const body = JSON.stringify({ run_id: id })
      for (const key of [SIGNING_KEYS.current, SIGNING_KEYS.next]) {
        const signature = await signQStash({ key, url: CALLBACK_URL, body })
        const res = await bare.app.request(CALLBACK_PATH, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'upstash-signature': signature },
          body,
        })
        await expectSignatureRefused(res)
      }
      expect(calls.get(id)).toBeUndefined()
      expect((await run(id)).status).toBe('QUEUED')
    } finally {
      await bare.close()
    }
  })
})

describe('POST /v1/jobs/callback: working the job', () => {
  it('ends a permanent failure with 489 and Upstash-NonRetryable-Error, run FAILED with its code', async () => {
    const id = await newRun(async () => {
      throw new PermanentJobError('BAD_SOURCE', 'the extract is not an OSM file')
    })
    const res = await deliver(id)
    expect(res.status).toBe(489)
    expect(res.headers.get('upstash-nonretryable-error')).toBe('true')
    expect(await json(res)).toMatchObject({ job_id: id, outcome: 'failed', status: 'FAILED' })
    expect(await run(id)).toMatchObject({
      status: 'FAILED',
      error_code: 'BAD_SOURCE',
      error_message: 'the extract is not an OSM file',
      attempts: 1,
    })
  })

  it('answers a transient failure with 503 (QStash retries) until the last attempt, then 489 FAILED', async () => {
    const id = await newRun(async () => {
      throw new TransientJobError('UPSTREAM_DOWN', 'overpass answered 504')
    })
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const res = await deliver(id)
      expect(res.status).toBe(503)
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(res.headers.get('upstash-nonretryable-error')).toBeNull()
      expect(await json(res)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
      expect(await run(id)).toMatchObject({
        status: 'QUEUED',
        attempts: attempt,
        error_code: 'UPSTREAM_DOWN',
      })
    }
    const last = await deliver(id)
    expect(last.status).toBe(489)
    expect(last.headers.get('upstash-nonretryable-error')).toBe('true')
    expect(await run(id)).toMatchObject({
      status: 'FAILED',
      attempts: MAX_ATTEMPTS,
      error_code: 'UPSTREAM_DOWN',
    })
    expect(calls.get(id)).toBe(MAX_ATTEMPTS)
  })

  it('acknowledges a duplicate delivery of a finished run without running it again', async () => {
    const id = await newRun(succeed)
    expect((await deliver(id)).status).toBe(200)
    const again = await deliver(id)
    expect(again.status).toBe(200)
    expect(await json(again)).toEqual({ job_id: id, outcome: 'not_claimed' })
    expect(calls.get(id)).toBe(1)
    expect((await run(id)).status).toBe('SUCCEEDED')
  })

  it('acknowledges a delivery for a run that does not exist: nothing to do', async () => {
    const id = randomUUID()
    const res = await deliver(id)
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ job_id: id, outcome: 'not_claimed' })
  })

  it('lets a delivery arriving while the run works leave it alone', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let entered!: () => void
    const started = new Promise<void>((r) => {
      entered = r
    })
    const id = await newRun(async () => {
      entered()
      await gate
      return { status: 'succeeded', stats: { ok: 1 } }
    })
    const first = deliver(id)
    await started
    const second = await deliver(id)
    expect(second.status).toBe(200)
    expect(await json(second)).toEqual({ job_id: id, outcome: 'not_claimed' })
    release()
    expect(await json(await first)).toMatchObject({ outcome: 'succeeded' })
    expect(calls.get(id)).toBe(1)
  })

  it(`runs the handler once when many deliveries race for the same run${onPostgres ? ' (Postgres)' : ''}`, async () => {
    const id = await newRun(async () => {
      await sleep(20)
      return { status: 'succeeded', stats: { ok: 1 } }
    })
    const answers = await Promise.all(Array.from({ length: 8 }, () => deliver(id)))
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200))
    const outcomes = (await Promise.all(answers.map((r) => json(r)))).map((b) => b.outcome).sort()
    expect(outcomes).toEqual([...Array(7).fill('not_claimed'), 'succeeded'])
    expect(calls.get(id)).toBe(1)
    expect(await run(id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 })
  })
})

describe('POST /v1/jobs/callback: slices', () => {
  const ITEMS = 10
  /** Sums the squares of 1..ITEMS, `perSlice` items per delivery, keeping its place in the checkpoint. */
  const summing =
    (perSlice: number): JobHandler =>
    async (ctx: JobContext) => {
      const cp = (ctx.run.checkpoint as { next: number; sum: number } | null) ?? { next: 1, sum: 0 }
      let { next, sum } = cp
      let done = 0
      while (next <= ITEMS) {
        if (done === perSlice || ctx.shouldYield()) {
          return { status: 'yielded' }
        }
        sum += next * next
        next += 1
        done += 1
        await ctx.saveCheckpoint({ next, sum })
      }
      return { status: 'succeeded', stats: { items: ITEMS, sum } }
    }

  it('yields with a checkpoint, re-publishes to QStash, and ends with the result of one uninterrupted run', async () => {
    const whole = await newRun(summing(ITEMS))
    expect((await deliver(whole)).status).toBe(200)
    const expected = (await run(whole)).stats

    const id = await newRun(summing(3))
    const publishedBefore = qstash.seen.length
    const first = await deliver(id)
    expect(first.status).toBe(200)
    expect(await json(first)).toEqual({ job_id: id, outcome: 'yielded', status: 'QUEUED' })
    expect(await run(id)).toMatchObject({ status: 'QUEUED', attempts: 0, checkpoint: { next: 4, sum: 14 } })

    // The next slice was published for the same callback, under a new deduplication id: QStash
    // would drop a re-publish under the run's first id as a duplicate.
    const republished = qstash.seen.slice(publishedBefore)
    expect(republished).toHaveLength(1)
    expect(republished[0]!.path).toBe(`/v2/publish/${CALLBACK_URL}`)
    expect(JSON.parse(republished[0]!.body)).toEqual({ run_id: id })
    const dedup = republished[0]!.headers['upstash-deduplication-id']
    expect(dedup).toBeTruthy()
    expect(dedup).not.toBe(deduplicationId(id))

    let outcome = 'yielded'
    let deliveries = 1
    while (outcome === 'yielded' && deliveries < 10) {
      const res = await deliver(id)
      expect(res.status).toBe(200)
      outcome = (await json(res)).outcome
      deliveries += 1
    }
    expect(outcome).toBe('succeeded')
    expect(deliveries).toBe(4)
    const done = await run(id)
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 1, checkpoint: null })
    expect(done.stats).toEqual(expected)
    expect(done.stats).toEqual({ items: ITEMS, sum: 385 })
    // Every slice but the last asked QStash for the next one, each under its own id.
    const slices = qstash.seen.slice(publishedBefore)
    expect(slices).toHaveLength(3)
    expect(new Set(slices.map((s) => s.headers['upstash-deduplication-id'])).size).toBe(3)
  })

  it('stops a slice at JOB_SLICE_SECONDS: shouldYield() turns true and the run continues from its checkpoint', async () => {
    const sliced = await createTestApp(
      qstashEnv(qstash.url, { JOB_SLICE_SECONDS: '5' }),
      (config, log) => ({
        jobs: createQStashQueue(config.jobs.qstash!, { log, maxAttempts: config.jobs.maxAttempts }),
        jobHandlers: { osm: dispatch, helpers: dispatch },
      }),
      t.database,
    )
    try {
      let spins = 0
      const id = await newRun(async (ctx) => {
        const cp = ctx.run.checkpoint as { slices: number } | null
        if (cp) return { status: 'succeeded', stats: { slices: cp.slices + 1, spins } }
        // Works in small steps until the deployment's slice is used up.
        while (!ctx.shouldYield()) {
          spins += 1
          await sleep(100)
        }
        await ctx.saveCheckpoint({ slices: 1 })
        return { status: 'yielded' }
      })
      const body = JSON.stringify({ run_id: id })
      const post = async () =>
        sliced.app.request(CALLBACK_PATH, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'upstash-signature': await signQStash({ key: SIGNING_KEYS.current, url: CALLBACK_URL, body }),
          },
          body,
        })
      const first = await post()
      expect(await json(first)).toMatchObject({ outcome: 'yielded' })
      expect(spins).toBeGreaterThan(0)
      expect(await run(id)).toMatchObject({ status: 'QUEUED', attempts: 0, checkpoint: { slices: 1 } })
      const second = await post()
      expect(await json(second)).toMatchObject({ outcome: 'succeeded' })
      expect((await run(id)).stats).toMatchObject({ slices: 2 })
    } finally {
      await sliced.close()
    }
  }, 30_000)
})

describe('log hygiene', () => {
  it('never writes the QStash token, the signing keys, the cron secret or the admin token to the log', () => {
    expect(t.logs.lines.length).toBeGreaterThan(0)
    for (const secret of [...SECRETS, ADMIN_TOKEN]) expect(t.logs.text).not.toContain(secret)
  })
})
