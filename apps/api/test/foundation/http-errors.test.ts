import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import type { Database } from '../../src/platform/db/client.js'
import { json } from '../helpers/http.js'
import { ADMIN_TOKEN, createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'

const PROBLEM = 'application/problem+json'

async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe(PROBLEM)
  const body = await json(res)
  expect(body).toMatchObject({ status, code, type: expect.stringContaining('urn:gorod:problem:') })
  expect(typeof body.title).toBe('string')
  expect(typeof body.detail).toBe('string')
  expect(body.request_id).toBe(res.headers.get('x-request-id'))
  return body
}

describe('errors are RFC 9457 problems', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('unknown route → 404 problem naming the route', async () => {
    const body = await expectProblem(await t.app.request('/v1/nowhere?x=1'), 404, 'NOT_FOUND')
    expect(body.detail).toContain('/v1/nowhere')
  })

  it('a route that does not exist is 404 whatever the request carries (no 401/413/415 first)', async () => {
    for (const init of [
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' },
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 10) },
      { method: 'GET' },
    ]) {
      await expectProblem(await t.app.request('/v1/admin/nowhere', init), 404, 'NOT_FOUND')
    }
  })

  it('a known path with another method → 405 with Allow', async () => {
    const res = await t.app.request('/v1/cities', {
      method: 'POST',
      headers: { 'x-app-key': DEV_KEYS.gorod },
    })
    await expectProblem(res, 405, 'METHOD_NOT_ALLOWED')
    expect(res.headers.get('allow')).toBe('GET, HEAD')
  })

  it('body in a non-JSON content type → 415', async () => {
    const res = await t.app.request('/v1/admin/ingestion/osm/enqueue', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-admin-token': ADMIN_TOKEN },
      body: 'hello',
    })
    await expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('body over 1 MiB → 413, whatever the route', async () => {
    const res = await t.app.request('/v1/admin/ingestion/osm/enqueue', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }),
    })
    await expectProblem(res, 413, 'PAYLOAD_TOO_LARGE')
  })

  it('echoes a sane X-Request-Id and replaces a hostile one', async () => {
    const sane = await t.app.request('/v1/api/health', { headers: { 'X-Request-Id': 'abc-123' } })
    expect(sane.headers.get('x-request-id')).toBe('abc-123')
    const hostile = await t.app.request('/v1/api/health', { headers: { 'X-Request-Id': 'a b\tc<script>' } })
    expect(hostile.headers.get('x-request-id')).not.toContain('<')
    expect(hostile.headers.get('x-request-id')).toMatch(/^[\w-]+$/)
  })

  it('logs every request with request id, method, path, status and duration', async () => {
    await t.app.request('/v1/api/health', { headers: { 'X-Request-Id': 'log-me-1' } })
    const line = t.logs.records.find((r) => r.request_id === 'log-me-1' && r.msg === 'request')
    expect(line).toMatchObject({ method: 'GET', path: '/v1/api/health', status: 200 })
    expect(typeof line?.duration_ms).toBe('number')
  })
})

describe('unexpected failures', () => {
  it('answer a bare 500 problem without internals and log the stack', async () => {
    const t = await createTestApp()
    const failing = {
      ...t.database,
      db: new Proxy(t.database.db, {
        get(target, prop, receiver) {
          if (prop === 'selectFrom') {
            return () => {
              throw new Error('boom: secret table detail')
            }
          }
          return Reflect.get(target, prop, receiver)
        },
      }),
    } as Database
    const app = createApp({ ...t.deps, database: failing })
    const res = await app.request('/v1/cities', { headers: { 'x-app-key': DEV_KEYS.gorod } })
    const body = await expectProblem(res, 500, 'INTERNAL')
    expect(JSON.stringify(body)).not.toContain('boom')
    expect(JSON.stringify(body)).not.toContain('stack')
    const logged = t.logs.records.find((r) => r.msg === 'unhandled error')
    expect(JSON.stringify(logged)).toContain('boom: secret table detail')
    expect(JSON.stringify(logged)).toContain('at ')
    await t.close()
  })
})
