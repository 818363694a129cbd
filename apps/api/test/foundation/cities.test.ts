import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json } from '../helpers/http.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'

describe('GET /v1/cities', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  const get = (key?: string) => t.app.request('/v1/cities', { headers: key ? { 'X-App-Key': key } : {} })

  it('lists the first tenant’s cities with their OSM boundary and geometry', async () => {
    const res = await get(DEV_KEYS.gorod)
    expect(res.status).toBe(200)
    const { items } = await json(res)
    expect(items.length).toBeGreaterThanOrEqual(6)
    const moscow = items.find((c: { slug: string }) => c.slug === 'moscow')
    expect(moscow).toMatchObject({ name_ru: 'Москва', osm_relation_id: 102269, timezone: 'Europe/Moscow' })
    expect(items.map((c: { slug: string }) => c.slug)).toContain('sergiev-posad')
    for (const c of items) {
      const [minLon, minLat, maxLon, maxLat] = c.bbox
      expect(minLon).toBeLessThan(maxLon)
      expect(minLat).toBeLessThan(maxLat)
      expect(c.center.lat).toBeGreaterThan(minLat)
      expect(c.center.lat).toBeLessThan(maxLat)
      expect(c.center.lon).toBeGreaterThan(minLon)
      expect(c.center.lon).toBeLessThan(maxLon)
    }
  })

  it('shows the second tenant only the cities it offers, Moscow among them', async () => {
    const first = (await json(await get(DEV_KEYS.gorod))).items.map((c: { slug: string }) => c.slug)
    const second = (await json(await get(DEV_KEYS.progulki))).items.map((c: { slug: string }) => c.slug)
    expect(second).toContain('moscow')
    expect(second.length).toBeLessThan(first.length)
    for (const slug of second) expect(first).toContain(slug)
  })

  it('refuses a missing or unknown app key with a 401 problem', async () => {
    for (const res of [await get(), await get('not-a-real-key')]) {
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      const body = await json(res)
      expect(['APP_KEY_REQUIRED', 'APP_KEY_INVALID']).toContain(body.code)
      expect(body.request_id).toBe(res.headers.get('x-request-id'))
    }
  })
})
