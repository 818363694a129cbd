import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json } from '../helpers/http.js'
import { createTestApp, type TestApp } from '../helpers/test-app.js'

describe('GET /v1/api/health', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('answers ok with the database reachable, version and uptime', async () => {
    const res = await t.app.request('/v1/api/health')
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body).toMatchObject({ status: 'ok', db: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })
    expect(body.uptime_s).toBeGreaterThanOrEqual(0)
    expect(res.headers.get('x-request-id')).toBeTruthy()
  })

  it('answers 503 problem+json when the database does not answer', async () => {
    const other = await createTestApp()
    await other.database.close()
    const res = await other.app.request('/v1/api/health')
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const body = await json(res)
    expect(body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' })
  })
})
