import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { createApp } from '../apps/api/src/app.js'
import { buildDeps, prepareDatabase } from '../apps/api/src/bootstrap.js'
import { configFrom } from '../apps/api/src/config.js'
import { buildCityTiles } from '../apps/api/src/modules/maps/index.js'
import { buildTilePyramid, type MapPoint } from '../apps/api/src/modules/maps/tile-pyramid.js'
import { createLogger } from '../apps/api/src/platform/log.js'
import {
  ingest,
  ingestHelpers,
  publish,
  SHABOLOVKA_XML,
} from '../apps/api/test/publishing/publish-fixtures.js'
import { round } from './lib/service.js'

/** Deterministic points in a Moscow-sized box (a linear congruential generator, no Math.random). */
function points(n: number, seed: number): MapPoint[] {
  let s = seed
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return s / 2 ** 31
  }
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `Место ${i + 1}`,
    tag: 'museum',
    lon: 37.35 + next() * 0.5,
    lat: 55.57 + next() * 0.35,
  }))
}

const REQUESTS = 2_000

async function perSecond(urls: string[], op: (url: string) => Response | Promise<Response>) {
  const started = performance.now()
  for (let i = 0; i < REQUESTS; i++) {
    const res = await op(urls[i % urls.length]!)
    if (res.status !== 200 && res.status !== 304) throw new Error(`status ${res.status}`)
    await res.arrayBuffer()
  }
  return round(REQUESTS / ((performance.now() - started) / 1000))
}

/**
 * Tile serving on the real Shabolovka extract (Moscow) published on a throwaway embedded database:
 * in-process requests (no sockets: the figure is the service's own cost) over every stored tile
 * at z12–14, versioned (the TileJSON URL) and unversioned, with gzip, next to health in the same run.
 */
async function serving() {
  const dir = mkdtempSync(join(tmpdir(), 'gorod-bench-tiles-'))
  const config = configFrom({
    PGLITE_DIR: 'memory://',
    BLOB_DIR: join(dir, 'blobs'),
    MEDIA_DIR: join(dir, 'media'),
  })
  const log = createLogger('silent')
  const database = await prepareDatabase(config, log)
  try {
    const { db } = database
    await ingest(db, SHABOLOVKA_XML, 'moscow')
    await ingestHelpers(db, SHABOLOVKA_XML, 'moscow')
    await publish(db, 'moscow')
    const city = await db
      .selectFrom('cities')
      .select(['id', 'bbox_min_lon', 'bbox_min_lat', 'bbox_max_lon', 'bbox_max_lat'])
      .where('slug', '=', 'moscow')
      .executeTakeFirstOrThrow()
    const { build } = await buildCityTiles(db, {
      id: city.id,
      bbox: [city.bbox_min_lon, city.bbox_min_lat, city.bbox_max_lon, city.bbox_max_lat],
    })
    const app = createApp(buildDeps(config, database, log))
    const headers = { 'X-App-Key': 'dev-gorod-app-key', 'Accept-Encoding': 'gzip' }
    const tj = (await (await app.request('/v1/cities/moscow/tiles.json', { headers })).json()) as {
      tiles: string[]
    }
    const { rows } = await sql<{ z: number; x: number; y: number }>`
      SELECT z, x, y FROM map_tile WHERE build_id = ${build.id} AND z >= 12 ORDER BY z, x, y`.execute(db)
    const versioned = rows.map((r) => {
      const u = new URL(
        tj.tiles[0]!.replace('{z}', `${r.z}`).replace('{x}', `${r.x}`).replace('{y}', `${r.y}`),
      )
      return u.pathname + u.search
    })
    const unversioned = versioned.map((u) => u.split('?')[0]!)
    const tile = (url: string) => app.request(url, { headers })
    // Warm-up (JIT, and whatever the route keeps): one pass over every URL.
    for (const u of [...versioned, ...unversioned]) await (await tile(u)).arrayBuffer()
    for (let i = 0; i < 500; i++) await (await app.request('/v1/api/health')).arrayBuffer()
    // Three interleaved rounds, the best of each kind: the machine is shared, so one slow round
    // says more about the neighbours than about the route.
    const kinds: Record<string, () => Promise<number>> = {
      health: () => perSecond(['/v1/api/health'], (u) => app.request(u)),
      tile_versioned_gzip: () => perSecond(versioned, tile),
      tile_unversioned_gzip: () => perSecond(unversioned, tile),
      tile_plain_mvt: () =>
        perSecond(versioned, (u) => app.request(u, { headers: { 'X-App-Key': 'dev-gorod-app-key' } })),
      tile_if_none_match_304: async () => {
        const etags = new Map<string, string>()
        for (const u of versioned) etags.set(u, (await tile(u)).headers.get('etag')!)
        return perSecond(versioned, (u) =>
          app.request(u, { headers: { ...headers, 'If-None-Match': etags.get(u)! } }),
        )
      },
    }
    const best: Record<string, number> = {}
    for (let round = 0; round < 3; round++)
      for (const [kind, measure] of Object.entries(kinds))
        best[kind] = Math.max(best[kind] ?? 0, await measure())
    return { tiles_z12_14: rows.length, requests_per_round: REQUESTS, in_process_per_s_best_of_3: best }
  } finally {
    await database.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Tile archive build (supercluster + vt-pbf + gzip, z0–14, both layers) for synthetic cities of
 * growing size: build time, tile count and archive size. Pure CPU: no database, no HTTP.
 */
export async function run() {
  const out: Record<string, unknown> = {}
  for (const [pois, helpers] of [
    [5_000, 2_000],
    [50_000, 10_000],
  ] as const) {
    const p = points(pois, 1)
    const h = points(helpers, 2)
    buildTilePyramid(p.slice(0, 500), h.slice(0, 200)) // warm the JIT
    const started = performance.now()
    const tiles = buildTilePyramid(p, h)
    const ms = performance.now() - started
    out[`${pois} pois + ${helpers} helpers`] = {
      build_ms: round(ms),
      tiles: tiles.length,
      archive_gzip_mb: round(tiles.reduce((n, t) => n + t.gzip.length, 0) / 1e6),
    }
  }
  out.serving = await serving()
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
