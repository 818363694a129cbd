import { gunzipSync } from 'node:zlib'
import { VectorTile } from '@mapbox/vector-tile'
import { sql } from 'kysely'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildCityTiles, thenBuildTiles } from '../../src/modules/maps/index.js'
import { createPublishHandler } from '../../src/modules/publishing/index.js'
import { insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { ingest, ingestHelpers, LAVRA_XML } from '../publishing/publish-fixtures.js'

let t: TestApp
let stats: Record<string, any>
const get = (path: string, headers: Record<string, string> = {}) =>
  t.app.request(path, { headers: { 'X-App-Key': DEV_KEYS.gorod, 'Accept-Encoding': 'gzip', ...headers } })

beforeAll(async () => {
  t = await createTestApp()
  const { db } = t.database
  await ingest(db, LAVRA_XML)
  await ingestHelpers(db, LAVRA_XML)
  const runId = await insertRunningRun(db, { citySlug: 'sergiev-posad', type: 'publish' as 'osm' })
  const done = await runToCompletion(db, thenBuildTiles(createPublishHandler()), runId)
  stats = done.outcome.stats as Record<string, any>
})
afterAll(async () => {
  await t?.close()
})

function decode(body: ArrayBuffer) {
  return new VectorTile(new PbfReader(gunzipSync(Buffer.from(body))))
}

async function ids(table: 'poi' | 'helper_place') {
  const present = table === 'poi' ? sql`published` : sql`missing_since IS NULL`
  const { rows } = await sql<{ id: number }>`
    SELECT p.id FROM ${sql.table(table)} p JOIN cities c ON c.id = p.city_id
    WHERE ${present} AND c.slug = 'sergiev-posad'`.execute(t.database.db)
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b)
}

/** Every feature of a layer over the stored tiles of one zoom, counted where its point lies (not in a buffer). */
async function layerAtZoom(z: number, layer: 'pois' | 'helpers') {
  const tj = (await (await get('/v1/cities/sergiev-posad/tiles.json')).json()) as any
  const { rows } = await sql<{ x: number; y: number }>`
    SELECT x, y FROM map_tile WHERE build_id = ${stats.tiles.build_id} AND z = ${z}`.execute(t.database.db)
  const found: number[] = []
  let clustered = 0
  for (const { x, y } of rows) {
    const url = new URL(tj.tiles[0].replace('{z}', z).replace('{x}', x).replace('{y}', y))
    const res = await get(url.pathname + url.search)
    expect(res.status).toBe(200)
    const l = decode(await res.arrayBuffer()).layers[layer]
    if (!l) continue
    expect(l.version).toBe(2)
    expect(l.extent).toBe(512)
    for (let i = 0; i < l.length; i++) {
      const f = l.feature(i)
      const pt = f.loadGeometry()[0]![0]!
      if (pt.x < 0 || pt.y < 0 || pt.x >= l.extent || pt.y >= l.extent) continue
      if (f.properties.cluster) clustered += Number(f.properties.point_count)
      else found.push(Number(f.properties.id))
    }
  }
  return { found: found.sort((a, b) => a - b), clustered }
}

describeWithOsmData('vector tiles of published POIs and helpers', () => {
  it('the publish run builds the archive once per data version', async () => {
    expect(stats.tiles.tiles).toBeGreaterThan(0)
    expect(stats.tiles.reused).toBe(false)
    const runId = await insertRunningRun(t.database.db, {
      citySlug: 'sergiev-posad',
      type: 'publish' as 'osm',
    })
    const again = await runToCompletion(t.database.db, thenBuildTiles(createPublishHandler()), runId)
    const tiles = (again.outcome.stats as any).tiles
    expect(tiles.reused).toBe(true)
    expect(tiles.build_id).toBe(stats.tiles.build_id)
  })

  it('every published POI and helper is exactly one feature at max zoom', async () => {
    const tj = (await (await get('/v1/cities/sergiev-posad/tiles.json')).json()) as any
    const pois = await layerAtZoom(tj.maxzoom, 'pois')
    expect(pois.clustered).toBe(0)
    expect(pois.found.length).toBeGreaterThan(0)
    expect(pois.found).toEqual(await ids('poi'))
    const helpers = await layerAtZoom(tj.maxzoom, 'helpers')
    expect(helpers.found.length).toBeGreaterThan(0)
    expect(helpers.found).toEqual(await ids('helper_place'))
  })

  it("clusters' point counts add up to every POI at low zoom", async () => {
    const total = (await ids('poi')).length
    for (const z of [8, 11]) {
      const { found, clustered } = await layerAtZoom(z, 'pois')
      expect(found.length + clustered).toBe(total)
    }
    expect((await layerAtZoom(8, 'pois')).clustered).toBeGreaterThan(0)
  })

  it('ETag, 304, immutable versioned URLs, 204 for empty tiles, plain MVT without gzip', async () => {
    const tj = (await (await get('/v1/cities/sergiev-posad/tiles.json')).json()) as any
    expect(tj.tilejson).toBe('3.0.0')
    expect(tj.vector_layers.map((l: any) => l.id)).toEqual(['pois', 'helpers'])
    const url = new URL(tj.tiles[0].replace('{z}', 0).replace('{x}', 0).replace('{y}', 0))
    const res = await get(url.pathname + url.search)
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(res.headers.get('cache-control')).toContain('immutable')
    const etag = res.headers.get('etag')!
    expect(etag).toMatch(/^"[0-9a-f]{16}-[0-9a-f]{16}"$/)
    expect((await get(url.pathname, { 'If-None-Match': etag })).status).toBe(304)
    const unversioned = await get(url.pathname)
    expect(unversioned.headers.get('cache-control')).toContain('max-age=300')
    const plain = await t.app.request(url.pathname, { headers: { 'X-App-Key': DEV_KEYS.gorod } })
    const tile = new VectorTile(new PbfReader(new Uint8Array(await plain.arrayBuffer())))
    expect(tile.layers.pois!.length).toBeGreaterThan(0)
    expect((await get('/v1/cities/sergiev-posad/tiles/14/0/0.mvt')).status).toBe(204)
  })

  it('tiles are kept per data version: served without the database, and a new version at once', async () => {
    const { db } = t.database
    const { rows } = await sql<{ id: number; lat: number; lon: number; city_id: number; name_ru: string }>`
      SELECT p.id, p.lat, p.lon, p.city_id, p.name_ru FROM poi p JOIN cities c ON c.id = p.city_id
      WHERE p.published AND c.slug = 'sergiev-posad' ORDER BY p.id LIMIT 1`.execute(db)
    const poi = rows[0]!
    const n = 2 ** 14
    const x = Math.floor(((poi.lon + 180) / 360) * n)
    const lat = (poi.lat * Math.PI) / 180
    const y = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * n)
    const path = `/v1/cities/sergiev-posad/tiles/14/${x}/${y}.mvt`
    const idsIn = async (res: Response) => {
      const l = decode(await res.arrayBuffer()).layers.pois!
      return Array.from({ length: l.length }, (_, i) => Number(l.feature(i).properties.id))
    }
    const first = await get(path)
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag')
    expect(await idsIn(first)).toContain(Number(poi.id))

    // The stored rows go (as if read from another copy): the process still serves the built tile.
    const build = stats.tiles.build_id
    const saved = await sql<{ data: Uint8Array; sha256: string }>`
      SELECT data, sha256 FROM map_tile WHERE build_id = ${build} AND z = 14 AND x = ${x} AND y = ${y}`.execute(
      db,
    )
    await sql`DELETE FROM map_tile WHERE build_id = ${build} AND z = 14 AND x = ${x} AND y = ${y}`.execute(db)
    const cached = await get(path)
    expect(cached.status).toBe(200)
    expect(cached.headers.get('etag')).toBe(etag)
    await sql`INSERT INTO map_tile (build_id, z, x, y, data, sha256)
      VALUES (${build}, 14, ${x}, ${y}, ${saved.rows[0]!.data}, ${saved.rows[0]!.sha256})`.execute(db)

    // The POI is renamed and the archive rebuilt: the next request serves the new version.
    const rebuild = async () => {
      const city = await db
        .selectFrom('cities')
        .selectAll()
        .where('id', '=', poi.city_id)
        .executeTakeFirstOrThrow()
      return buildCityTiles(db, {
        id: city.id,
        bbox: [city.bbox_min_lon, city.bbox_min_lat, city.bbox_max_lon, city.bbox_max_lat],
      })
    }
    await sql`UPDATE poi SET name_ru = 'Переименованное место' WHERE id = ${poi.id}`.execute(db)
    try {
      expect((await rebuild()).reused).toBe(false)
      const after = await get(path)
      expect(after.status).toBe(200)
      expect(after.headers.get('etag')).not.toBe(etag)
      const l = decode(await after.arrayBuffer()).layers.pois!
      const names = Array.from({ length: l.length }, (_, i) => l.feature(i).properties)
      expect(names).toContainEqual(
        expect.objectContaining({ id: Number(poi.id), name: 'Переименованное место' }),
      )
    } finally {
      await sql`UPDATE poi SET name_ru = ${poi.name_ru} WHERE id = ${poi.id}`.execute(db)
      await rebuild()
    }
  })

  it('bad coordinates are a 400 problem; a city without a build is a 404', async () => {
    const bad = await get('/v1/cities/sergiev-posad/tiles/2/9/0.mvt')
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toContain('application/problem+json')
    expect((await get('/v1/cities/sergiev-posad/tiles/2/1/abc')).status).toBe(400)
    expect((await get('/v1/cities/moscow/tiles.json')).status).toBe(404)
  })

  it('the style draws POIs, clusters and helpers from the tiles over a background', async () => {
    const res = await get('/v1/cities/sergiev-posad/style.json')
    expect(res.status).toBe(200)
    const style = (await res.json()) as any
    expect(style.version).toBe(8)
    expect(style.sources.gorod.url).toMatch(/\/v1\/cities\/sergiev-posad\/tiles\.json$/)
    expect(style.layers[0].type).toBe('background')
    const ids = style.layers.map((l: any) => l.id)
    for (const id of ['helpers', 'poi-clusters', 'pois', 'poi-labels']) expect(ids).toContain(id)
  })
})
