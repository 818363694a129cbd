import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json } from '../helpers/http.js'
import { createRun } from '../helpers/jobs.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'

const admin = { 'X-Admin-Token': ADMIN_TOKEN }

describe('job routes', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  const post = (path: string) => t.app.request(path, { method: 'POST', headers: admin })

  it('shows a job with every documented field', async () => {
    const run = await createRun(t.database)
    const res = await t.app.request(`/v1/jobs/${run.id}`, { headers: admin })
    expect(res.status).toBe(200)
    const job = await json(res)
    expect(Object.keys(job).sort()).toEqual(
      [
        'attempts',
        'boundary_ref',
        'cancel_requested',
        'city',
        'created_at',
        'error',
        'finished_at',
        'heartbeat_at',
        'id',
        'idempotency_key',
        'max_attempts',
        'progress',
        'run_date',
        'source',
        'started_at',
        'stats',
        'status',
        'trigger',
        'type',
      ].sort(),
    )
    expect(job).toMatchObject({ id: run.id, status: 'QUEUED', city: 'moscow', error: null })
  })

  it('answers 404 for an unknown job and 400 for a malformed id', async () => {
    const unknown = await t.app.request('/v1/jobs/11111111-2222-4333-8444-555555555555', { headers: admin })
    expect(unknown.status).toBe(404)
    expect((await json(unknown)).code).toBe('JOB_NOT_FOUND')
    const malformed = await t.app.request("/v1/jobs/1'%20OR%201=1", { headers: admin })
    expect(malformed.status).toBe(400)
    expect((await json(malformed)).errors[0].path).toBe('param.job_id')
  })

  it('lists jobs newest first with a cursor that walks every job exactly once', async () => {
    const created = []
    for (let i = 0; i < 7; i++) created.push((await createRun(t.database, { city: 'kazan' })).id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const qs = new URLSearchParams({ city: 'kazan', limit: '3', ...(cursor ? { cursor } : {}) })
      const page = await json(await t.app.request(`/v1/admin/jobs?${qs}`, { headers: admin }))
      expect(page.items.length).toBeLessThanOrEqual(3)
      seen.push(...page.items.map((j: { id: string }) => j.id))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toEqual([...created].reverse())
  })

  it('filters by status and type, and rejects bad filters and cursors', async () => {
    const page = await json(
      await t.app.request('/v1/admin/jobs?status=QUEUED&type=osm&limit=100', { headers: admin }),
    )
    expect(
      page.items.every((j: { status: string; type: string }) => j.status === 'QUEUED' && j.type === 'osm'),
    ).toBe(true)
    for (const qs of ['status=DONE', 'limit=0', 'limit=1000', 'type=x', 'cursor=garbage']) {
      const res = await t.app.request(`/v1/admin/jobs?${qs}`, { headers: admin })
      expect(res.status).toBe(400)
    }
  })

  it('cancels a queued job at once (idempotently) and refuses to cancel a finished one', async () => {
    const run = await createRun(t.database)
    const res = await post(`/v1/admin/jobs/${run.id}/cancel`)
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ status: 'CANCELLED', finished_at: expect.any(String) })
    expect((await post(`/v1/admin/jobs/${run.id}/cancel`)).status).toBe(200)

    const done = await createRun(t.database)
    await sql`UPDATE ingestion_run SET status = 'SUCCEEDED', finished_at = now() WHERE id = ${done.id}`.execute(
      t.database.db,
    )
    const refused = await post(`/v1/admin/jobs/${done.id}/cancel`)
    expect(refused.status).toBe(409)
    expect((await json(refused)).code).toBe('JOB_STATE_CONFLICT')
  })

  it('flags a running job for cancellation; its worker stops it at the next batch', async () => {
    const run = await createRun(t.database)
    await sql`UPDATE ingestion_run SET status = 'RUNNING', attempts = 1, worker_id = 'w', heartbeat_at = now(),
              started_at = now() WHERE id = ${run.id}`.execute(t.database.db)
    const res = await post(`/v1/admin/jobs/${run.id}/cancel`)
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ status: 'RUNNING', cancel_requested: true })
  })

  it('retries a failed or cancelled job as a new attempt of the same run, and refuses others', async () => {
    const run = await createRun(t.database)
    await sql`UPDATE ingestion_run SET status = 'FAILED', attempts = 3, max_attempts = 3, finished_at = now(),
              error_code = 'UPSTREAM_UNAVAILABLE', error_message = 'down' WHERE id = ${run.id}`.execute(
      t.database.db,
    )
    const res = await post(`/v1/admin/jobs/${run.id}/retry`)
    expect(res.status).toBe(202)
    const job = await json(res)
    expect(job).toMatchObject({ id: run.id, status: 'QUEUED', error: null, finished_at: null, attempts: 3 })
    expect(job.max_attempts).toBeGreaterThan(3)
    const queued = await post(`/v1/admin/jobs/${run.id}/retry`)
    expect(queued.status).toBe(409)
    const unknown = await post('/v1/admin/jobs/11111111-2222-4333-8444-555555555555/retry')
    expect(unknown.status).toBe(404)
  })
})
