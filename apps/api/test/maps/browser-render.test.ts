import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { serve } from '@hono/node-server'
import { fromGeojsonVt } from '@maplibre/vt-pbf'
import { sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { saveBasemap } from '../../src/modules/maps/basemap.queries.js'
import { thenBuildTiles } from '../../src/modules/maps/index.js'
import { writePmtiles } from '../../src/modules/maps/pmtiles-writer.js'
import { createPublishHandler } from '../../src/modules/publishing/index.js'
import { localBlobStore } from '../../src/platform/blobs/blob-store.js'
import { describeWithBrowser, launchBrowser } from '../helpers/browser.js'
import { insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { REPO_ROOT } from '../helpers/process.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { ingest, ingestHelpers, LAVRA_XML } from '../publishing/publish-fixtures.js'

/**
 * MapLibre GL JS in headless chromium renders the service's style: the page, MapLibre and the
 * pmtiles protocol are served by the same 127.0.0.1 listener as the API (same origin, no CORS),
 * the app key goes on every request (`transformRequest` for style/TileJSON/tiles, the pmtiles
 * source's own headers for the basemap), and nothing leaves the machine.
 */

const MAPLIBRE_DIST = join(REPO_ROOT, 'node_modules/maplibre-gl/dist')
const PMTILES_JS = join(REPO_ROOT, 'node_modules/pmtiles/dist/pmtiles.js')
const SLUG = 'sergiev-posad'

let t: TestApp
let server: ReturnType<typeof serve>
let origin: string
let poi: { id: number; name_ru: string; lat: number; lon: number }

const PAGE = (center: [number, number]) => `<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="/__test/maplibre/maplibre-gl.css">
<style>html,body,#map{margin:0;width:800px;height:600px}</style>
<script src="/__test/pmtiles.js"></script></head>
<body><div id="map"></div>
<script type="module">
import * as maplibregl from '/__test/maplibre/maplibre-gl.mjs'
const KEY = ${JSON.stringify(DEV_KEYS.gorod)}
window.__errors = []
const protocol = new pmtiles.Protocol()
maplibregl.addProtocol('pmtiles', protocol.tile)
const basemapUrl = location.origin + '/v1/cities/${SLUG}/basemap.pmtiles'
protocol.add(new pmtiles.PMTiles(new pmtiles.FetchSource(basemapUrl, new Headers({ 'X-App-Key': KEY }))))
const map = new maplibregl.Map({
  container: 'map',
  style: location.origin + '/v1/cities/${SLUG}/style.json',
  center: ${JSON.stringify(center)},
  zoom: 15,
  fadeDuration: 0,
  transformRequest: (url) =>
    url.startsWith(location.origin) ? { url, headers: { 'X-App-Key': KEY } } : { url },
})
map.on('error', (e) => window.__errors.push(String(e.error?.message ?? e.error ?? e)))
map.once('idle', () => {
  const pick = (layers) => map.queryRenderedFeatures({ layers }).map((f) => ({ id: f.properties.id, name: f.properties.name }))
  window.__result = {
    pois: pick(['pois']),
    water: map.queryRenderedFeatures({ layers: ['basemap-water'] }).length,
    sources: Object.keys(map.getStyle().sources),
  }
})
</script></body></html>`

/** A one-tile basemap (z0, a "water" polygon over the world) in the service's own PMTiles writer. */
function tinyBasemap(): Buffer {
  const ring = [
    [-64, -64],
    [576, -64],
    [576, 576],
    [-64, 576],
    [-64, -64],
  ]
  const mvt = fromGeojsonVt(
    { water: { features: [{ type: 3, geometry: [ring], tags: { class: 'lake' } }] } } as any,
    { version: 2, extent: 512 },
  )
  return writePmtiles([{ z: 0, x: 0, y: 0, data: gzipSync(Buffer.from(mvt)) }], {
    tileCompression: 2,
    tileType: 1,
    bounds: [-180, -85, 180, 85],
    center: [38.13, 56.31, 0],
    metadata: { vector_layers: [{ id: 'water', fields: { class: 'String' } }] },
  })
}

beforeAll(async () => {
  t = await createTestApp()
  const { db } = t.database
  await ingest(db, LAVRA_XML)
  await ingestHelpers(db, LAVRA_XML)
  const runId = await insertRunningRun(db, { citySlug: SLUG, type: 'publish' as 'osm' })
  await runToCompletion(db, thenBuildTiles(createPublishHandler()), runId)
  const { rows } = await sql<typeof poi>`
    SELECT p.id, p.name_ru, p.lat, p.lon FROM poi p JOIN cities c ON c.id = p.city_id
    WHERE p.published AND c.slug = ${SLUG} AND p.name_ru IS NOT NULL ORDER BY p.id LIMIT 1`.execute(db)
  poi = { ...rows[0]!, id: Number(rows[0]!.id) }

  const archive = tinyBasemap()
  const stored = await localBlobStore(t.deps.config.blobDir).putBytes(archive)
  const city = await db.selectFrom('cities').select('id').where('slug', '=', SLUG).executeTakeFirstOrThrow()
  await saveBasemap(db, {
    city_id: city.id,
    sha256: stored.sha256,
    bytes: stored.bytes,
    run_id: runId,
    min_zoom: 0,
    max_zoom: 0,
    bounds: [-180, -85, 180, 85],
    tile_count: 1,
  })

  const assets: Record<string, { file: string; type: string }> = {
    '/__test/pmtiles.js': { file: PMTILES_JS, type: 'text/javascript' },
  }
  server = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (req) => {
      const path = new URL(req.url).pathname
      if (path === '/__test/page.html')
        return new Response(PAGE([poi.lon, poi.lat]), { headers: { 'content-type': 'text/html' } })
      if (path.startsWith('/__test/maplibre/')) {
        const name = path.slice('/__test/maplibre/'.length)
        if (!/^[\w.-]+$/.test(name)) return new Response(null, { status: 404 })
        const type = name.endsWith('.css') ? 'text/css' : 'text/javascript'
        return new Response(await readFile(join(MAPLIBRE_DIST, name)).catch(() => null), {
          headers: { 'content-type': type },
        })
      }
      const asset = assets[path]
      if (asset) return new Response(await readFile(asset.file), { headers: { 'content-type': asset.type } })
      return t.app.fetch(req)
    },
  })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  await t?.close()
})

describeWithOsmData('MapLibre in a real browser', () => {
  describeWithBrowser('renders the service style', () => {
    it('queryRenderedFeatures finds a published POI; no map errors; nothing leaves 127.0.0.1', async () => {
      const { browser, close } = await launchBrowser()
      try {
        const page = await browser.newPage()
        const requests: string[] = []
        page.on('request', (r) => {
          requests.push(r.url())
        })
        const consoleErrors: string[] = []
        page.on('pageerror', (e) => consoleErrors.push(e.message))
        await page.goto(`${origin}/__test/page.html`)
        // Answers the page got that were not 2xx/3xx (chromium's own favicon probe aside).
        const failed: string[] = []
        page.on('response', (r) => {
          if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${r.url()}`)
        })
        const handle = await page
          .waitForFunction(
            () => (globalThis as any).__result ?? (globalThis as any).__errors?.[0],
            undefined,
            {
              timeout: 60_000,
            },
          )
          .catch(async (err) => {
            console.log({
              requests,
              failed,
              consoleErrors,
              errors: await page.evaluate(() => (globalThis as any).__errors),
            })
            throw err
          })
        const result = (await handle.jsonValue()) as {
          pois: Array<{ id: number; name: string }>
          water: number
          sources: string[]
        }
        const errors = await page.evaluate(() => (globalThis as any).__errors as string[])
        expect(errors).toEqual([])
        expect(consoleErrors).toEqual([])
        expect(failed).toEqual([])
        expect(result.sources).toEqual(['basemap', 'gorod'])
        expect(result.pois).toContainEqual({ id: poi.id, name: poi.name_ru })
        // The basemap came through the pmtiles protocol (range requests on the basemap route).
        expect(result.water).toBeGreaterThan(0)
        expect(requests.some((u) => u.includes('/tiles/'))).toBe(true)
        expect(requests.some((u) => u.endsWith('/basemap.pmtiles'))).toBe(true)
        const outside = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:'))
        expect(outside).toEqual([])
      } finally {
        await close()
      }
    }, 120_000)
  })
})
