import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createQStashQueue } from '../../src/platform/jobs/qstash-queue.js'
import { json } from '../helpers/http.js'
import {
  CRON_SECRET,
  PUBLIC_BASE_URL,
  qstashEnv,
  SECRETS,
  SIGNING_KEYS,
  signQStash,
} from '../helpers/qstash-signer.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'
import { type LocalServer, startLocalServer } from '../ingestion/local-http-server.js'

const CRON_PATH = '/v1/cron/ingestion'
// A pinned clock: every run of this file is for the same day in every city.
const NOW = new Date('2026-08-10T09:00:00Z')

let t: TestApp
let qstash: LocalServer
let activeCities: string[]

beforeAll(async () => {
  qstash = await startLocalServer((_req, res, n) => {
    res.writeHead(201, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ messageId: `msg_${n}` }))
  })
  t = await createTestApp(qstashEnv(qstash.url), (config, log) => ({
    clock: { now: () => NOW },
    jobs: createQStashQueue(config.jobs.qstash!, { log, maxAttempts: config.jobs.maxAttempts }),
  }))
  activeCities = (
    await t.database.db.selectFrom('cities').select('slug').where('active', '=', true).execute()
  ).map((c) => c.slug)
})
afterAll(async () => {
  await t?.close()
  await qstash?.close()
})

const cron = (method: 'GET' | 'POST', headers: Record<string, string> = {}) =>
  t.app.request(CRON_PATH, { method, headers })
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
const countRuns = async () =>
  Number(
    (
      await t.database.db
        .selectFrom('ingestion_run')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

async function expectRefused(res: Response) {
  expect(res.status).toBe(401)
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  expect(await json(res)).toMatchObject({ status: 401, code: 'SIGNATURE_INVALID' })
}

describe('/v1/cron/ingestion', () => {
  it('refuses a missing, wrong or malformed secret and creates nothing', async () => {
    await expectRefused(await cron('POST'))
    await expectRefused(await cron('POST', bearer('wrong-secret-0123456789abcdef')))
    await expectRefused(await cron('POST', bearer(`${CRON_SECRET}x`)))
    await expectRefused(await cron('POST', { authorization: CRON_SECRET }))
    await expectRefused(await cron('POST', { authorization: `Basic ${CRON_SECRET}` }))
    await expectRefused(await cron('GET', bearer('wrong-secret-0123456789abcdef')))
    // The admin token is not the cron secret.
    await expectRefused(await cron('POST', { 'X-Admin-Token': ADMIN_TOKEN }))
    expect(await countRuns()).toBe(0)
    expect(qstash.seen).toHaveLength(0)
  })

  it('with the cron secret enqueues one osm and one helpers run per active city, and publishes each', async () => {
    const res = await cron('POST', bearer(CRON_SECRET))
    expect(res.status).toBe(200)
    const { enqueued } = await json(res)
    expect(activeCities.length).toBeGreaterThan(0)
    expect(enqueued).toHaveLength(activeCities.length * 2)
    for (const city of activeCities) {
      for (const type of ['osm', 'helpers']) {
        expect(enqueued).toContainEqual(expect.objectContaining({ city, type, deduplicated: false }))
      }
    }
    const runs = await t.database.db.selectFrom('ingestion_run').selectAll().execute()
    expect(runs).toHaveLength(activeCities.length * 2)
    expect(runs.every((r) => r.trigger === 'cron' && r.status === 'QUEUED')).toBe(true)
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(enqueued.map((e: { job_id: string }) => e.job_id)))
    expect(qstash.seen).toHaveLength(activeCities.length * 2)
  })

  it('is idempotent for the day: again (GET, as Vercel Cron calls it) answers the same runs, deduplicated', async () => {
    const before = await countRuns()
    const res = await cron('GET', bearer(CRON_SECRET))
    expect(res.status).toBe(200)
    const { enqueued } = await json(res)
    expect(enqueued).toHaveLength(activeCities.length * 2)
    expect(enqueued.every((e: { deduplicated: boolean }) => e.deduplicated)).toBe(true)
    expect(await countRuns()).toBe(before)
  })

  it('accepts a QStash schedule delivery signed for this URL', async () => {
    const signature = await signQStash({
      key: SIGNING_KEYS.current,
      url: `${PUBLIC_BASE_URL}${CRON_PATH}`,
      body: '',
    })
    const res = await cron('POST', { 'upstash-signature': signature })
    expect(res.status).toBe(200)
    const { enqueued } = await json(res)
    expect(enqueued).toHaveLength(activeCities.length * 2)
    const next = await signQStash({ key: SIGNING_KEYS.next, url: `${PUBLIC_BASE_URL}${CRON_PATH}`, body: '' })
    expect((await cron('POST', { 'upstash-signature': next })).status).toBe(200)
  })

  it('refuses a QStash signature made for another URL, even alongside the right bearer', async () => {
    for (const url of [`${PUBLIC_BASE_URL}/v1/jobs/callback`, `https://other.example${CRON_PATH}`]) {
      const signature = await signQStash({ key: SIGNING_KEYS.current, url, body: '' })
      await expectRefused(await cron('POST', { 'upstash-signature': signature }))
      // A signature present is the credential checked: a valid bearer does not rescue a bad one.
      await expectRefused(await cron('POST', { 'upstash-signature': signature, ...bearer(CRON_SECRET) }))
    }
    const forged = await signQStash({
      key: 'sig_not-ours-0000000000',
      url: `${PUBLIC_BASE_URL}${CRON_PATH}`,
      body: '',
    })
    await expectRefused(await cron('POST', { 'upstash-signature': forged }))
  })

  it('is closed when no cron secret and no signing keys are configured', async () => {
    const bare = await createTestApp({}, {}, t.database)
    try {
      const res = await bare.app.request(CRON_PATH, { method: 'GET', headers: bearer(CRON_SECRET) })
      await expectRefused(res)
      const signature = await signQStash({
        key: SIGNING_KEYS.current,
        url: `${PUBLIC_BASE_URL}${CRON_PATH}`,
        body: '',
      })
      await expectRefused(
        await bare.app.request(CRON_PATH, { method: 'POST', headers: { 'upstash-signature': signature } }),
      )
    } finally {
      await bare.close()
    }
  })

  it('never writes the QStash token, the signing keys, the cron secret or the admin token to the log', () => {
    expect(t.logs.text).toContain('daily ingestion enqueued')
    for (const secret of [...SECRETS, ADMIN_TOKEN]) expect(t.logs.text).not.toContain(secret)
  })
})

describe('/v1/cron/reap (serverless reaper)', () => {
  it('hands a run whose worker died back to QStash, and refuses an unauthenticated call', async () => {
    const { createRun, runRow } = await import('../helpers/jobs.js')
    const { sql } = await import('kysely')
    const run = await createRun(t.database)
    await sql`UPDATE ingestion_run SET status = 'RUNNING', attempts = 1, worker_id = 'gone',
              heartbeat_at = now() - interval '1 hour' WHERE id = ${run.id}`.execute(t.database.db)
    await expectRefused(await t.app.request('/v1/cron/reap', { method: 'POST' }))
    const publishesBefore = qstash.seen.length
    const res = await t.app.request('/v1/cron/reap', { method: 'GET', headers: bearer(CRON_SECRET) })
    expect(res.status).toBe(200)
    expect((await json(res)).requeued).toEqual([run.id])
    expect(await runRow(t.database.db, run.id)).toMatchObject({ status: 'QUEUED', worker_id: null })
    const published = qstash.seen.slice(publishesBefore)
    expect(published).toHaveLength(1)
    expect(JSON.parse(published[0]!.body)).toEqual({ run_id: run.id })
    // Nothing left to reap: a second call is a no-op.
    const again = await t.app.request('/v1/cron/reap', { method: 'POST', headers: bearer(CRON_SECRET) })
    expect((await json(again)).requeued).toEqual([])
  })
})
