import type { Kysely } from 'kysely'
import type { DB } from '../../platform/db/schema.js'
import { tileJson } from './map-style.js'
import {
  buildTiles,
  currentHelpers,
  findBuildByHash,
  insertBuild,
  latestBuild,
  pruneBuilds,
  publishedPois,
  type TileBuildRow,
} from './maps.queries.js'
import { writePmtiles } from './pmtiles-writer.js'
import { forgetCityBuild } from './tile-cache.js'
import { buildTilePyramid, dataHash, type MapPoint, TILE_MAX_ZOOM } from './tile-pyramid.js'

/** The previous build stays one version, so clients holding its versioned URLs finish their session. */
const KEEP_BUILDS = 2

export interface TileBuildOutcome {
  build: TileBuildRow
  /** The data version was already built: nothing encoded. */
  reused: boolean
  ms: number
}

function boundsOf(points: MapPoint[], fallback: number[]): number[] {
  if (points.length === 0) return fallback
  let [w, s, e, n] = [180, 90, -180, -90]
  for (const p of points) {
    w = Math.min(w, p.lon)
    e = Math.max(e, p.lon)
    s = Math.min(s, p.lat)
    n = Math.max(n, p.lat)
  }
  return [w, s, e, n]
}

/**
 * Builds the city's tile archive for its current published data, once per data version: a second
 * call over unchanged data finds the build by its hash and encodes nothing.
 */
export async function buildCityTiles(
  db: Kysely<DB>,
  city: { id: number; bbox: number[] },
): Promise<TileBuildOutcome> {
  const started = performance.now()
  const [pois, helpers] = await Promise.all([publishedPois(db, city.id), currentHelpers(db, city.id)])
  const hash = dataHash(pois, helpers)
  const existing = await findBuildByHash(db, city.id, hash)
  if (existing) return { build: existing, reused: true, ms: performance.now() - started }
  const tiles = buildTilePyramid(pois, helpers)
  const build = await insertBuild(
    db,
    {
      city_id: city.id,
      data_hash: hash,
      poi_count: pois.length,
      helper_count: helpers.length,
      tile_count: tiles.length,
      bytes: tiles.reduce((n, t) => n + t.gzip.length, 0),
      min_zoom: 0,
      max_zoom: TILE_MAX_ZOOM,
      bounds: boundsOf([...pois, ...helpers], city.bbox),
    },
    tiles,
  )
  await pruneBuilds(db, city.id, KEEP_BUILDS)
  forgetCityBuild(db, city.id)
  return { build, reused: false, ms: performance.now() - started }
}

/**
 * The city's POI/helper tile archive as one PMTiles file (the pack's `poi_tiles` role): the stored
 * gzip tiles of the latest build, unchanged, with the TileJSON layers and attribution as metadata.
 * The same build always gives the same bytes (so the same blob); undefined while nothing is built.
 */
export async function poiTilesArchive(
  db: Kysely<DB>,
  city: { id: number; slug: string; name_ru: string; center_lon: number; center_lat: number },
): Promise<{ bytes: Buffer; version: string } | undefined> {
  const build = await latestBuild(db, city.id)
  if (!build) return undefined
  const tiles = await buildTiles(db, build.id)
  if (tiles.length === 0) return undefined
  const center = [city.center_lon, city.center_lat]
  const tj = tileJson('', { slug: city.slug, name_ru: city.name_ru, center }, build)
  const [w, s, e, n] = build.bounds as [number, number, number, number]
  const bytes = writePmtiles(
    tiles.map((t) => ({ z: t.z, x: t.x, y: t.y, data: Buffer.from(t.data) })),
    {
      tileCompression: 2,
      tileType: 1,
      bounds: [w, s, e, n],
      center: [center[0]!, center[1]!, 12],
      metadata: {
        name: tj.name,
        attribution: tj.attribution,
        version: build.data_hash.slice(0, 16),
        vector_layers: tj.vector_layers,
      },
    },
  )
  return { bytes, version: build.data_hash.slice(0, 16) }
}
