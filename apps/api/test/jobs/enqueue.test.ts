import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, jsonRequest } from '../helpers/http.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'

const admin = { 'X-Admin-Token': ADMIN_TOKEN }

describe('POST /v1/admin/ingestion/{type}/enqueue', () => {
  let t: TestApp
  beforeAll(async () => {
    // A pinned clock: 2026-03-01T22:30Z is already 2 March in Moscow (UTC+3).
    t = await createTestApp({}, { clock: { now: () => new Date('2026-03-01T22:30:00Z') } })
  })
  afterAll(() => t.close())

  const enqueue = (type: string, body: unknown, headers = admin) =>
    t.app.request(`/v1/admin/ingestion/${type}/enqueue`, jsonRequest(body, headers))

  it('creates a queued run and answers 202 with its id, key and Location, doing no work itself', async () => {
    const res = await enqueue('osm', { city: 'moscow' })
    expect(res.status).toBe(202)
    const body = await json(res)
    expect(body).toMatchObject({
      status: 'QUEUED',
      type: 'osm',
      city: 'moscow',
      idempotency_key: 'osm|moscow|102269|2026-03-02',
      deduplicated: false,
    })
    expect(res.headers.get('location')).toBe(`/v1/jobs/${body.job_id}`)
    expect(res.headers.get('idempotent-replayed')).toBeNull()
    const job = await json(await t.app.request(res.headers.get('location')!, { headers: admin }))
    expect(job).toMatchObject({
      id: body.job_id,
      status: 'QUEUED',
      attempts: 0,
      source: { kind: 'overpass' },
    })
  })

  it('answers the same job for the same key, marked as a replay', async () => {
    const first = await json(await enqueue('helpers', { city: 'kazan', date: '2026-05-01' }))
    const again = await enqueue('helpers', {
      city: 'kazan',
      date: '2026-05-01',
      source: { kind: 'overpass' },
    })
    expect(again.status).toBe(202)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await json(again)).toMatchObject({ job_id: first.job_id, deduplicated: true })
    const { count } = await t.database.db
      .selectFrom('ingestion_run')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('idempotency_key', '=', 'helpers|kazan|3446524|2026-05-01')
      .executeTakeFirstOrThrow()
    expect(count).toBe(1)
  })

  it('keeps types, dates and boundaries apart as different keys', async () => {
    const a = await json(await enqueue('osm', { city: 'yaroslavl', date: '2026-05-01' }))
    const b = await json(await enqueue('helpers', { city: 'yaroslavl', date: '2026-05-01' }))
    const c = await json(await enqueue('osm', { city: 'yaroslavl', date: '2026-05-02' }))
    const d = await json(await enqueue('osm', { city: 'yaroslavl', date: '2026-05-01', boundary_ref: '123' }))
    expect(new Set([a.job_id, b.job_id, c.job_id, d.job_id]).size).toBe(4)
    expect(d.idempotency_key).toBe('osm|yaroslavl|123|2026-05-01')
  })

  it('refuses the same key with another source with a 422 naming the existing job', async () => {
    const first = await json(await enqueue('osm', { city: 'saint-petersburg', date: '2026-05-01' }))
    const res = await enqueue('osm', {
      city: 'saint-petersburg',
      date: '2026-05-01',
      source: { kind: 'extract', url: 'https://example.org/nw.osm.pbf' },
    })
    expect(res.status).toBe(422)
    const body = await json(res)
    expect(body.code).toBe('IDEMPOTENCY_CONFLICT')
    expect(body.detail).toContain(first.job_id)
  })

  it('answers 404 for an unknown city', async () => {
    const res = await enqueue('osm', { city: 'atlantis' })
    expect(res.status).toBe(404)
    expect((await json(res)).code).toBe('CITY_NOT_FOUND')
  })

  it.each([
    ['no city', {}, 'body.city'],
    ['a date that is not a date', { city: 'moscow', date: '2026-02-30' }, 'body.date'],
    ['a date in another format', { city: 'moscow', date: '01.05.2026' }, 'body.date'],
    ['a boundary that is not a relation id', { city: 'moscow', boundary_ref: 'abc' }, 'body.boundary_ref'],
    ['an unknown source kind', { city: 'moscow', source: { kind: 'ftp' } }, 'body.source'],
    ['an extract without URL', { city: 'moscow', source: { kind: 'extract' } }, 'body.source'],
    [
      'an extract with a file URL',
      { city: 'moscow', source: { kind: 'extract', url: 'file:///etc/passwd' } },
      'body.source',
    ],
    ['an unknown field', { city: 'moscow', priority: 'high' }, 'body'],
    ['a city of the wrong type', { city: 42 }, 'body.city'],
  ])('answers 400 with field errors for %s', async (_name, body, path) => {
    const res = await enqueue('osm', body)
    expect(res.status).toBe(400)
    const problem = await json(res)
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors.some((e: { path: string }) => e.path.startsWith(path))).toBe(true)
  })

  it('answers 400 for malformed JSON and 415 for a body that is not JSON, creating nothing', async () => {
    const before = await t.database.db.selectFrom('ingestion_run').select('id').execute()
    const malformed = await t.app.request('/v1/admin/ingestion/osm/enqueue', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: '{"city": "moscow",',
    })
    expect(malformed.status).toBe(400)
    expect((await json(malformed)).code).toBe('MALFORMED_BODY')
    const form = await t.app.request('/v1/admin/ingestion/osm/enqueue', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'city=moscow',
    })
    expect(form.status).toBe(415)
    const empty = await t.app.request('/v1/admin/ingestion/osm/enqueue', { method: 'POST', headers: admin })
    expect(empty.status).toBe(400)
    const after = await t.database.db.selectFrom('ingestion_run').select('id').execute()
    expect(after.length).toBe(before.length)
  })
})
