import type { Kysely } from 'kysely'
import type { DB } from '../../platform/db/schema.js'
import {
  currentHelpers,
  findBuildByHash,
  insertBuild,
  pruneBuilds,
  publishedPois,
  type TileBuildRow,
} from './maps.queries.js'
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
