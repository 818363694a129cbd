import { gunzipSync } from 'node:zlib'
import { sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { greatCircleMeters } from '../../src/platform/geo/great-circle.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { ingest, ingestHelpers, LAVRA, LAVRA_XML, publish, SHABOLOVKA_XML } from './publish-fixtures.js'

let t: TestApp
const get = (path: string, key: string = DEV_KEYS.gorod, headers: Record<string, string> = {}) =>
  t.app.request(path, { headers: { 'X-App-Key': key, ...headers } })
const json = async (path: string, key?: string) => {
  const res = await get(path, key)
  return { status: res.status, body: (await res.json()) as any }
}

// Sergiev Posad's bbox is cut through the data (east edge at 38.135) so that "Nearby" is tested at
// a city's edge: POIs east of it fail the in_city gate, queries from outside still reach inside.
const EDGE_LON = 38.135

beforeAll(async () => {
  t = await createTestApp()
  const { db } = t.database
  await sql`UPDATE cities SET bbox_max_lon = ${EDGE_LON} WHERE slug = 'sergiev-posad'`.execute(db)
  await ingest(db, LAVRA_XML)
  await ingestHelpers(db, LAVRA_XML)
  await ingest(db, SHABOLOVKA_XML, 'moscow')
  await ingestHelpers(db, SHABOLOVKA_XML, 'moscow')
  await publish(db, 'sergiev-posad')
  await publish(db, 'moscow')
  // The second app stops offering Sergiev Posad: everything of that city must vanish for it.
  await sql`
    DELETE FROM tenant_cities WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'progulki')
      AND city_id = (SELECT id FROM cities WHERE slug = 'sergiev-posad')`.execute(db)
})
afterAll(async () => {
  await t?.close()
})

interface Place {
  kind: 'poi' | 'helper'
  id: number
  lat: number
  lon: number
  city: string
}

/** Every row "Nearby" may show to the tenant, straight from the tables. */
async function everyPlace(tenant: string): Promise<Place[]> {
  const { rows } = await sql<Place>`
    SELECT 'poi' AS kind, p.id, p.lat, p.lon, c.slug AS city FROM poi p JOIN cities c ON c.id = p.city_id
      JOIN tenant_cities tc ON tc.city_id = c.id JOIN tenants t ON t.id = tc.tenant_id
      WHERE p.published AND t.slug = ${tenant}
    UNION ALL
    SELECT 'helper', h.id, h.lat, h.lon, c.slug FROM helper_place h JOIN cities c ON c.id = h.city_id
      JOIN tenant_cities tc ON tc.city_id = c.id JOIN tenants t ON t.id = tc.tenant_id
      WHERE h.missing_since IS NULL AND t.slug = ${tenant}`.execute(t.database.db)
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}

function bruteForce(places: Place[], lat: number, lon: number, radius: number, limit: number) {
  return places
    .map((p) => ({ ...p, d: greatCircleMeters({ lat, lon }, p) }))
    .filter((p) => p.d <= radius)
    .sort((a, b) => a.d - b.d || a.kind.localeCompare(b.kind) || a.id - b.id)
    .slice(0, limit)
}

describeWithOsmData('public read API on published extracts', () => {
  it('nearby equals a brute-force great-circle sort (order and distances) at 300 m, 1 km and 5 km', async () => {
    const places = await everyPlace('gorod')
    expect(places.filter((p) => p.kind === 'helper').length).toBeGreaterThan(0)
    const points = [
      { lat: 56.3107, lon: 38.1302, name: 'Lavra' },
      { lat: 56.3125, lon: EDGE_LON + 0.004, name: 'just outside the east edge of the city' },
      { lat: 56.3153, lon: EDGE_LON - 0.0005, name: 'just inside the edge' },
      { lat: 55.7178, lon: 37.6116, name: 'Shabolovka' },
    ]
    let compared = 0
    for (const p of points) {
      for (const radius of [300, 1000, 5000]) {
        for (const limit of [5, 100]) {
          const { status, body } = await json(
            `/v1/nearby?lat=${p.lat}&lon=${p.lon}&radius_m=${radius}&limit=${limit}`,
          )
          expect(status).toBe(200)
          const expected = bruteForce(places, p.lat, p.lon, radius, limit)
          expect(
            body.items.map((i: Place) => `${i.kind}:${i.id}`),
            `${p.name} r=${radius} limit=${limit}`,
          ).toEqual(expected.map((e) => `${e.kind}:${e.id}`))
          body.items.forEach((item: { distance_m: number }, i: number) => {
            expect(Math.abs(item.distance_m - expected[i]!.d)).toBeLessThan(1)
          })
          compared += expected.length
        }
      }
    }
    expect(compared).toBeGreaterThan(200)
    // Outside the city's bbox, nothing east of the edge was published.
    const east = await json(`/v1/nearby?lat=56.3125&lon=${EDGE_LON + 0.004}&radius_m=200&kinds=poi`)
    expect(east.body.items.every((i: Place) => i.lon <= EDGE_LON)).toBe(true)
  })

  it('nearby: kinds and category filter; only discovery data (no prices, products or purchase links)', async () => {
    const { body } = await json(
      '/v1/nearby?lat=56.3107&lon=38.1302&radius_m=2000&kinds=poi&category=monastery',
    )
    expect(body.items.length).toBeGreaterThan(0)
    expect(body.items.every((i: any) => i.kind === 'poi' && i.category === 'monastery')).toBe(true)
    expect(body.items[0]).toMatchObject({ name: 'Троице-Сергиева лавра', category_label: 'Монастырь' })
    expect(body).toMatchObject({ attribution: '© OpenStreetMap contributors', license: 'ODbL-1.0' })
    const all = await json('/v1/nearby?lat=56.3107&lon=38.1302&radius_m=5000&limit=100')
    const keys = new Set<string>()
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk)
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          keys.add(k.toLowerCase())
          walk(x)
        }
    }
    walk(all.body)
    for (const k of keys) expect(k).not.toMatch(/price|product|purchase|buy|sku|cart|offer|store|payment/)
  })

  it.each([
    ['lat=91&lon=38&radius_m=100', 'query.lat'],
    ['lat=56&lon=181&radius_m=100', 'query.lon'],
    ['lat=56&lon=38&radius_m=0', 'query.radius_m'],
    ['lat=56&lon=38&radius_m=20001', 'query.radius_m'],
    ['lat=56&lon=38&radius_m=1e9', 'query.radius_m'],
    ['lat=abc&lon=38', 'query.lat'],
    ['lat=&lon=38', 'query.lat'],
    ['lon=38', 'query.lat'],
    ['lat=56&lon=38&limit=0', 'query.limit'],
    ['lat=56&lon=38&limit=101', 'query.limit'],
    ['lat=56&lon=38&kinds=shops', 'query.kinds'],
  ])('nearby?%s → 400 naming %s', async (qs, path) => {
    const res = await get(`/v1/nearby?${qs}`)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
    const body = (await res.json()) as any
    expect(body.code).toBe('VALIDATION_FAILED')
    expect(body.errors.map((e: { path: string }) => e.path)).toContain(path)
  })

  it('city detail counts published POIs per category with Russian labels', async () => {
    const { status, body } = await json('/v1/cities/sergiev-posad')
    expect(status).toBe(200)
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM poi p JOIN cities c ON c.id = p.city_id
      WHERE c.slug = 'sergiev-posad' AND p.published`.execute(t.database.db)
    expect(body.poi_total).toBe(rows[0]!.n)
    expect(body.poi_counts.reduce((n: number, c: { count: number }) => n + c.count, 0)).toBe(rows[0]!.n)
    expect(body.poi_counts).toContainEqual({
      category: 'monastery',
      label_ru: 'Монастырь',
      count: expect.any(Number),
    })
    expect(body).toMatchObject({ slug: 'sergiev-posad', name_ru: 'Сергиев Посад', license: 'ODbL-1.0' })
  })

  it('POI list pages in a stable order without gaps or repeats; category and bbox filter', async () => {
    const seen: number[] = []
    let cursor: string | null = null
    do {
      const { body }: { body: any } = await json(
        `/v1/cities/sergiev-posad/pois?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(body.attribution).toBe('© OpenStreetMap contributors')
      seen.push(...body.items.map((i: { id: number }) => i.id))
      cursor = body.next_cursor
    } while (cursor)
    const total = (await json('/v1/cities/sergiev-posad')).body.poi_total
    expect(seen).toHaveLength(total)
    expect([...seen].sort((a, b) => a - b)).toEqual(seen)
    const museums = await json('/v1/cities/sergiev-posad/pois?category=museum&limit=200')
    expect(museums.body.items.every((i: { category: string }) => i.category === 'museum')).toBe(true)
    const box = await json('/v1/cities/sergiev-posad/pois?bbox=38.128,56.309,38.133,56.312&limit=200')
    expect(box.body.items.length).toBeGreaterThan(0)
    expect(
      box.body.items.every(
        (i: Place) => i.lon >= 38.128 && i.lon <= 38.133 && i.lat >= 56.309 && i.lat <= 56.312,
      ),
    ).toBe(true)
    expect((await get('/v1/cities/sergiev-posad/pois?bbox=1,2,3')).status).toBe(400)
    expect((await get('/v1/cities/sergiev-posad/pois?cursor=nonsense')).status).toBe(400)
  })

  it('POI detail: the Trinity Lavra with sources, licence, attribution and wiki links', async () => {
    const { body: found } = await json('/v1/search?q=Троице-Сергиева лавра&city=sergiev-posad')
    const id = found.items[0].id
    const { status, body } = await json(`/v1/pois/${id}`)
    expect(status).toBe(200)
    expect(body).toMatchObject({
      name_ru: 'Троице-Сергиева лавра',
      category: 'monastery',
      category_label: 'Монастырь',
      city: 'sergiev-posad',
      wikidata: { id: LAVRA.wikidata, url: 'https://www.wikidata.org/wiki/Q211962' },
      license: 'ODbL-1.0',
      attribution: '© OpenStreetMap contributors',
      sources: [
        {
          type: 'osm',
          osm_type: 'way',
          osm_id: LAVRA.osm_id,
          url: 'https://www.openstreetmap.org/way/219706573',
        },
      ],
    })
    expect(body.position.lat).toBeCloseTo(56.3107, 3)
    expect((await get('/v1/pois/999999999')).status).toBe(404)
    expect((await get('/v1/pois/abc')).status).toBe(400)
  })

  it.each(['лавра', 'Троице-Сергиева лавра', 'сергиево лавра', 'ТРОИЦЕ', 'троице-сергиева лавpа', 'ЛАВРА'])(
    'search "%s" finds the Lavra near the top',
    async (q) => {
      const { status, body } = await json(`/v1/search?q=${encodeURIComponent(q)}`)
      expect(status).toBe(200)
      const rank = body.items.findIndex((i: { name_ru: string }) => i.name_ru === 'Троице-Сергиева лавра')
      expect(rank).toBeGreaterThanOrEqual(0)
      expect(rank).toBeLessThan(3)
      expect(body.license).toBe('ODbL-1.0')
    },
  )

  it('search: the exact name ranks first, ё and е are the same letter, bad q → 400', async () => {
    const exact = await json(`/v1/search?q=${encodeURIComponent('троице-сергиева лавра')}`)
    expect(exact.body.items[0].name_ru).toBe('Троице-Сергиева лавра')
    const scores = exact.body.items.map((i: { score: number }) => i.score)
    expect(scores[0]).toBeGreaterThan(0.9)
    const { rows } = await sql<{ name_ru: string }>`
      SELECT name_ru FROM poi WHERE published AND name_ru ~ '[ёЁ]' LIMIT 1`.execute(t.database.db)
    if (rows[0]) {
      const withE = rows[0].name_ru.replaceAll('ё', 'е').replaceAll('Ё', 'Е')
      const found = await json(`/v1/search?q=${encodeURIComponent(withE)}`)
      expect(found.body.items.map((i: { name_ru: string }) => i.name_ru)).toContain(rows[0].name_ru)
    }
    expect((await get('/v1/search?q=a')).status).toBe(400)
    expect((await get(`/v1/search?q=${'я'.repeat(101)}`)).status).toBe(400)
    expect((await get('/v1/search?q=лавра&city=kazan-nope')).status).toBe(404)
  })

  it('GeoJSON: compact features, ETag with 304, gzip, Cache-Control', async () => {
    const res = await get('/v1/cities/sergiev-posad/pois.geojson')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/geo+json')
    expect(res.headers.get('cache-control')).toMatch(/max-age=/)
    const etag = res.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]+"$/)
    const fc = (await res.json()) as any
    expect(fc).toMatchObject({
      type: 'FeatureCollection',
      attribution: '© OpenStreetMap contributors',
      license: 'ODbL-1.0',
    })
    expect(fc.features.length).toBe((await json('/v1/cities/sergiev-posad')).body.poi_total)
    for (const f of fc.features) {
      expect(Object.keys(f.properties).sort()).toEqual(['category', 'id', 'name'])
      for (const c of f.geometry.coordinates) expect(Math.round(c * 1e7) / 1e7).toBe(c)
    }
    const again = await get('/v1/cities/sergiev-posad/pois.geojson', DEV_KEYS.gorod, {
      'If-None-Match': etag,
    })
    expect(again.status).toBe(304)
    expect(again.headers.get('etag')).toBe(etag)
    expect(await again.text()).toBe('')
    const stale = await get('/v1/cities/sergiev-posad/pois.geojson', DEV_KEYS.gorod, {
      'If-None-Match': '"old"',
    })
    expect(stale.status).toBe(200)
    const gz = await get('/v1/cities/sergiev-posad/pois.geojson', DEV_KEYS.gorod, {
      'Accept-Encoding': 'gzip',
    })
    expect(gz.headers.get('content-encoding')).toBe('gzip')
    const unzipped = JSON.parse(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString('utf8'))
    expect(unzipped).toEqual(fc)
  })

  it('tenant isolation: an app never sees a city it does not offer', async () => {
    const other = DEV_KEYS.progulki
    const lavraId = (await json('/v1/search?q=лавра&city=sergiev-posad')).body.items[0].id
    for (const path of [
      '/v1/cities/sergiev-posad',
      '/v1/cities/sergiev-posad/pois',
      '/v1/cities/sergiev-posad/pois.geojson',
    ]) {
      const res = await get(path, other)
      expect(res.status, path).toBe(404)
      expect(((await res.json()) as any).code).toBe('CITY_NOT_FOUND')
    }
    const poi = await get(`/v1/pois/${lavraId}`, other)
    expect(poi.status).toBe(404)
    expect(((await poi.json()) as any).code).toBe('POI_NOT_FOUND')
    expect((await json('/v1/nearby?lat=56.3107&lon=38.1302&radius_m=5000', other)).body.items).toEqual([])
    expect(
      (await json('/v1/search?q=лавра', other)).body.items.every((i: Place) => i.city !== 'sergiev-posad'),
    ).toBe(true)
    expect((await get('/v1/search?q=лавра&city=sergiev-posad', other)).status).toBe(404)
    // Moscow is offered by both apps: the second one sees it.
    expect(
      (await json('/v1/nearby?lat=55.7178&lon=37.6116&radius_m=1000', other)).body.items.length,
    ).toBeGreaterThan(0)
    // No key, or an unknown one: 401 everywhere.
    expect((await t.app.request('/v1/nearby?lat=56&lon=38')).status).toBe(401)
    expect((await get('/v1/pois/1', 'unknown-key-123')).status).toBe(401)
  })

  it('every answer shows coordinates rounded to 7 decimals, nearby included', async () => {
    const lavraId = (await json('/v1/search?q=лавра&city=sergiev-posad')).body.items[0].id
    const answers = [
      (await json('/v1/nearby?lat=56.3107&lon=38.1302&radius_m=5000&limit=50')).body,
      (await json('/v1/nearby?lat=55.7178&lon=37.6116&radius_m=5000&limit=50')).body,
      (await json('/v1/cities/sergiev-posad/pois?limit=100')).body,
      (await json(`/v1/pois/${lavraId}`)).body,
      (await json('/v1/search?q=церковь')).body,
      (await json('/v1/cities')).body,
      (await json('/v1/cities/sergiev-posad')).body,
      (await json('/v1/cities/sergiev-posad/pois.geojson')).body,
    ]
    const coordinates: number[] = []
    const collect = (v: unknown, key = ''): void => {
      if (Array.isArray(v)) for (const x of v) collect(x, key)
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, k)
      else if (typeof v === 'number' && ['lat', 'lon', 'coordinates', 'bbox'].includes(key))
        coordinates.push(v)
    }
    collect(answers)
    expect(coordinates.length).toBeGreaterThan(100)
    const tooLong = coordinates.filter((c) => (String(c).split('.')[1] ?? '').length > 7)
    expect(tooLong).toEqual([])
  })
})
