import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { secretsEqual } from '../../src/platform/http/admin-auth.js'
import { json } from '../helpers/http.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'

const SOME_ID = '00000000-0000-4000-8000-000000000000'

/** Every operator route, with a request that would otherwise be valid. */
const ADMIN_ROUTES: Array<[string, string, unknown?]> = [
  ['POST', '/v1/admin/ingestion/osm/enqueue', { city: 'moscow' }],
  ['POST', '/v1/admin/ingestion/helpers/enqueue', { city: 'moscow' }],
  ['GET', `/v1/jobs/${SOME_ID}`],
  ['GET', '/v1/admin/jobs'],
  ['POST', `/v1/admin/jobs/${SOME_ID}/cancel`],
  ['POST', `/v1/admin/jobs/${SOME_ID}/retry`],
]

function call(t: TestApp, [method, path, body]: [string, string, unknown?], token?: string) {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers['X-Admin-Token'] = token
  if (body !== undefined) headers['content-type'] = 'application/json'
  return t.app.request(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
}

describe('admin surface', () => {
  let t: TestApp
  let closed: TestApp
  beforeAll(async () => {
    t = await createTestApp()
    closed = await createTestApp({ ADMIN_API_TOKEN: undefined }, {}, t.database)
  })
  afterAll(() => t.close())

  it.each(ADMIN_ROUTES)(
    '%s %s: missing token → 401, wrong token → 403, right token passes',
    async (...route) => {
      const missing = await call(t, route)
      expect(missing.status).toBe(401)
      expect(missing.headers.get('content-type')).toBe('application/problem+json')
      expect((await json(missing)).code).toBe('ADMIN_TOKEN_REQUIRED')

      const wrong = await call(t, route, `${ADMIN_TOKEN}x`)
      expect(wrong.status).toBe(403)
      expect((await json(wrong)).code).toBe('ADMIN_TOKEN_INVALID')

      const empty = await call(t, route, '')
      expect([401, 403]).toContain(empty.status)

      const right = await call(t, route, ADMIN_TOKEN)
      expect([200, 202, 404]).toContain(right.status)
    },
  )

  it.each(ADMIN_ROUTES)(
    '%s %s is closed when no token is configured, even with a token',
    async (...route) => {
      for (const token of [undefined, ADMIN_TOKEN]) {
        const res = await call(closed, route, token)
        expect(res.status).toBe(403)
        const body = await json(res)
        expect(body.code).toBe('ADMIN_DISABLED')
        expect(body.detail).toMatch(/not configured/)
      }
    },
  )

  it('never writes the token into a log line', async () => {
    for (const route of ADMIN_ROUTES) {
      await call(t, route, ADMIN_TOKEN)
      await call(t, route, `${ADMIN_TOKEN}-wrong`)
    }
    expect(t.logs.lines.length).toBeGreaterThan(0)
    expect(t.logs.text).not.toContain(ADMIN_TOKEN)
  })

  it('compares tokens by content only, whatever their lengths', () => {
    expect(secretsEqual(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(true)
    expect(secretsEqual(ADMIN_TOKEN.slice(0, -1), ADMIN_TOKEN)).toBe(false)
    expect(secretsEqual(`${ADMIN_TOKEN}0`, ADMIN_TOKEN)).toBe(false)
    expect(secretsEqual('', ADMIN_TOKEN)).toBe(false)
  })
})
