import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, jsonRequest } from '../helpers/http.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'
import { onPostgres } from '../helpers/test-db.js'

/** On PGlite requests share one session and queue up; the real race needs Postgres, where both run it. */
describe(`50 concurrent enqueues of one key (${onPostgres ? 'Postgres' : 'PGlite'})`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('make exactly one run and answer the same job id 50 times, never a 5xx', async () => {
    const body = { city: 'moscow', date: '2027-01-15' }
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.app.request('/v1/admin/ingestion/osm/enqueue', jsonRequest(body, { 'X-Admin-Token': ADMIN_TOKEN })),
      ),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202))
    const bodies = await Promise.all(responses.map(json))
    const ids = new Set(bodies.map((b) => b.job_id))
    expect(ids.size).toBe(1)
    expect(bodies.filter((b) => b.deduplicated === false)).toHaveLength(1)
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(49)
    const runs = await t.database.db
      .selectFrom('ingestion_run')
      .select('id')
      .where('idempotency_key', '=', 'osm|moscow|102269|2027-01-15')
      .execute()
    expect(runs).toHaveLength(1)
  })

  it('make one run per key when many keys race at once', async () => {
    const dates = Array.from({ length: 10 }, (_, i) => `2027-02-${String(i + 1).padStart(2, '0')}`)
    const requests = dates.flatMap((date) =>
      Array.from({ length: 5 }, () =>
        t.app.request(
          '/v1/admin/ingestion/helpers/enqueue',
          jsonRequest({ city: 'kazan', date }, { 'X-Admin-Token': ADMIN_TOKEN }),
        ),
      ),
    )
    const bodies = await Promise.all((await Promise.all(requests)).map(json))
    expect(new Set(bodies.map((b) => b.job_id)).size).toBe(10)
    const runs = await t.database.db
      .selectFrom('ingestion_run')
      .select('idempotency_key')
      .where('idempotency_key', 'like', 'helpers|kazan|%|2027-02-%')
      .execute()
    expect(runs).toHaveLength(10)
  })
})
