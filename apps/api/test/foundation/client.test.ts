import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGorodClient } from '../../../../packages/api-client/src/index.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'

describe('the generated client against the running service', () => {
  let t: TestApp
  let server: ReturnType<typeof serve>
  let baseUrl: string
  beforeAll(async () => {
    t = await createTestApp()
    server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((r) => server.once('listening', r))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
    await t.close()
  })

  it('reads health and the tenant’s cities with typed answers', async () => {
    const api = createGorodClient({ baseUrl, appKey: DEV_KEYS.progulki })
    const health = await api.GET('/v1/api/health')
    expect(health.data?.status).toBe('ok')
    const cities = await api.GET('/v1/cities')
    expect(cities.response.status).toBe(200)
    expect(cities.data?.items.map((c) => c.slug)).toContain('moscow')
  })

  it('surfaces problems as typed errors', async () => {
    const api = createGorodClient({ baseUrl, appKey: 'wrong-key-123' })
    const { data, error, response } = await api.GET('/v1/cities')
    expect(data).toBeUndefined()
    expect(response.status).toBe(401)
    expect(error?.code).toBe('APP_KEY_INVALID')
  })
})
