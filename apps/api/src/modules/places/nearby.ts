import type { Kysely } from 'kysely'
import type { Pool } from 'pg'
import type { Database } from '../../platform/db/client.js'
import type { DB } from '../../platform/db/schema.js'
import { EARTH_RADIUS_M, greatCircleMeters } from '../../platform/geo/great-circle.js'
import { roundCoordinate } from '../../platform/geo/lat-lon.js'
import { createLocalProjection } from '../../platform/geo/local-projection.js'
import { labelRu, PUBLIC_HELPER_KINDS, PUBLIC_POI_CATEGORIES } from './labels.js'

export interface NearbyQuery {
  lat: number
  lon: number
  radiusM: number
  kinds: ReadonlyArray<'poi' | 'helper'>
  category?: string
  limit: number
}

export interface NearbyItem {
  kind: 'poi' | 'helper'
  id: number
  name: string | null
  category: string
  category_label: string
  city: string
  lat: number
  lon: number
  distance_m: number
}

interface NearbyCity {
  id: number
  slug: string
  ref_lat: number
  bbox_min_lon: number
  bbox_min_lat: number
  bbox_max_lon: number
  bbox_max_lat: number
}

interface Candidate {
  id: number
  name: string | null
  category: string
  lat: number
  lon: number
  planar: number
}

/**
 * Rows the planar scan asks for beyond `limit`. The plane's order differs from the great-circle one
 * by a tiny fraction inside a city, so a small margin almost always settles the answer in one scan;
 * when it does not, `nearestInCity` asks for more.
 */
export function candidateLimit(limit: number): number {
  return limit + Math.max(2, Math.ceil(limit / 25))
}

const M_PER_DEG = (EARTH_RADIUS_M * Math.PI) / 180

/**
 * "Nearby": KNN on the planar column in the city's own projection, then exact great-circle distances.
 * The planar scan over-fetches; when the k-th exact distance could still be beaten by a point the scan
 * has not reached (the projection's lower bound says so), it fetches more. The answer therefore equals
 * a brute-force great-circle sort of the same rows (ties by kind, then id).
 */
export async function findNearby(
  database: Database,
  tenantId: number,
  q: NearbyQuery,
): Promise<NearbyItem[]> {
  const cities = await citiesAround(database.db, tenantId, q)
  const all: NearbyItem[] = []
  for (const city of cities) {
    for (const kind of q.kinds) {
      const slugs = allowedSlugs(kind, q.category)
      if (slugs.length === 0) continue
      // Every published POI passed the category gate (its category is public): without a category
      // asked there is nothing to filter.
      const filter = kind === 'poi' && q.category === undefined ? null : slugs
      all.push(...(await nearestInCity(database.pool, city, kind, filter, q)))
    }
  }
  all.sort(compareItems)
  return all.slice(0, q.limit)
}

function allowedSlugs(kind: 'poi' | 'helper', category: string | undefined): string[] {
  const pool = kind === 'poi' ? PUBLIC_POI_CATEGORIES : PUBLIC_HELPER_KINDS
  return category === undefined ? [...pool] : pool.filter((s) => s === category)
}

function compareItems(a: NearbyItem, b: NearbyItem): number {
  return a.distance_m - b.distance_m || a.kind.localeCompare(b.kind) || a.id - b.id
}

/**
 * How long a process reuses a tenant's list of cities. Cities and the cities a tenant offers change
 * only through migrations or an operator's SQL, never on a request's path; a change shows in Nearby
 * within this time, and every "Nearby" saves a round trip to the database.
 */
const TENANT_CITIES_TTL_MS = 10_000

const tenantCitiesCache = new WeakMap<
  Kysely<DB>,
  Map<number, { at: number; cities: Promise<NearbyCity[]> }>
>()

function tenantCities(db: Kysely<DB>, tenantId: number): Promise<NearbyCity[]> {
  const byTenant = tenantCitiesCache.get(db) ?? new Map()
  tenantCitiesCache.set(db, byTenant)
  const hit = byTenant.get(tenantId)
  if (hit && Date.now() - hit.at < TENANT_CITIES_TTL_MS) return hit.cities
  const cities = db
    .selectFrom('cities as c')
    .innerJoin('tenant_cities as tc', 'tc.city_id', 'c.id')
    .select([
      'c.id',
      'c.slug',
      'c.ref_lat',
      'c.bbox_min_lon',
      'c.bbox_min_lat',
      'c.bbox_max_lon',
      'c.bbox_max_lat',
    ])
    .where('tc.tenant_id', '=', tenantId)
    .where('c.active', '=', true)
    .orderBy('c.id')
    .execute()
  byTenant.set(tenantId, { at: Date.now(), cities })
  // A failed read is not kept: the next request asks the database again.
  cities.catch(() => byTenant.delete(tenantId))
  return cities
}

/** The tenant's cities whose bbox, grown by the radius, holds the query point. */
async function citiesAround(db: Kysely<DB>, tenantId: number, q: NearbyQuery): Promise<NearbyCity[]> {
  const dLat = q.radiusM / M_PER_DEG
  const dLon = q.radiusM / (M_PER_DEG * Math.max(0.01, Math.cos((Math.abs(q.lat) * Math.PI) / 180)))
  return (await tenantCities(db, tenantId)).filter(
    (c) =>
      c.bbox_min_lat <= q.lat + dLat &&
      c.bbox_max_lat >= q.lat - dLat &&
      c.bbox_min_lon <= q.lon + dLon &&
      c.bbox_max_lon >= q.lon - dLon,
  )
}

async function nearestInCity(
  pool: Pool,
  city: NearbyCity,
  kind: 'poi' | 'helper',
  filter: string[] | null,
  q: NearbyQuery,
): Promise<NearbyItem[]> {
  // The projection's bounds hold for pairs inside this region: the city and everything within reach.
  const dLat = q.radiusM / M_PER_DEG
  const dLon = q.radiusM / (M_PER_DEG * Math.max(0.01, Math.cos((Math.abs(q.lat) * Math.PI) / 180)))
  const proj = createLocalProjection(
    {
      minLat: Math.max(-89.9, Math.min(city.bbox_min_lat, q.lat) - dLat),
      maxLat: Math.min(89.9, Math.max(city.bbox_max_lat, q.lat) + dLat),
      minLon: Math.min(city.bbox_min_lon, q.lon) - dLon,
      maxLon: Math.max(city.bbox_max_lon, q.lon) + dLon,
    },
    city.ref_lat,
  )
  const { x, y } = proj.project(q.lat, q.lon)
  const r = proj.planarRadiusFor(q.radiusM)
  // The plane's order is close to the exact one inside a city: a small over-fetch, re-checked below.
  let k = candidateLimit(q.limit)
  for (;;) {
    const rows = await candidates(pool, kind, city, filter, x, y, r, k)
    const exact = rows
      .map((row) => ({ row, d: greatCircleMeters(q, row) }))
      .filter((e) => e.d <= q.radiusM)
      .sort((a, b) => a.d - b.d || a.row.id - b.row.id)
    const exhausted = rows.length < k
    const kth = exact[q.limit - 1]?.d
    // Anything the scan did not reach is at least this far away in great-circle metres.
    const unseenAtLeast = exhausted
      ? Number.POSITIVE_INFINITY
      : proj.minMetersFor(rows[rows.length - 1]!.planar)
    // Fewer than `limit` found so far: done once nothing unseen can be within the radius.
    if (exhausted || (kth ?? q.radiusM) < unseenAtLeast) {
      return exact.slice(0, q.limit).map(({ row, d }) => ({
        kind,
        id: row.id,
        name: row.name,
        category: row.category,
        category_label: labelRu(row.category),
        city: city.slug,
        lat: roundCoordinate(row.lat),
        lon: roundCoordinate(row.lon),
        distance_m: Math.round(d * 10) / 10,
      }))
    }
    k *= 4
  }
}

/**
 * One KNN scan: city, kinds, the box of the planar radius, planar order. Named statements: the server
 * plans each once per connection, which on this hot path costs more than the scan itself.
 */
function scanText(table: 'poi' | 'helper_place', filter: string | null): string {
  const columns = table === 'poi' ? 'id, name_ru AS name, category' : 'id, name, kind AS category'
  const present = table === 'poi' ? 'published' : 'missing_since IS NULL'
  return `SELECT ${columns}, geo[0] AS x, geo[1] AS lat
        FROM ${table}
        WHERE ${present} AND city_id = $3::int ${filter === null ? '' : `AND ${filter} = ANY($6::text[])`}
          AND geo <@ box(point($1::float8 - $4::float8, $2::float8 - $4::float8),
                         point($1::float8 + $4::float8, $2::float8 + $4::float8))
        ORDER BY geo <-> point($1::float8, $2::float8) LIMIT $5::int`
}

const SCANS = {
  poi_all: scanText('poi', null),
  poi: scanText('poi', 'category'),
  helper: scanText('helper_place', 'kind'),
}

async function candidates(
  pool: Pool,
  kind: 'poi' | 'helper',
  city: NearbyCity,
  filter: string[] | null,
  x: number,
  y: number,
  r: number,
  k: number,
): Promise<Candidate[]> {
  const scan = filter === null ? 'poi_all' : kind
  const { rows } = await pool.query<Omit<Candidate, 'lon' | 'planar'> & { x: number }>({
    name: `nearby_${scan}`,
    text: SCANS[scan],
    values: filter === null ? [x, y, city.id, r, k] : [x, y, city.id, r, k, filter],
  })
  // The index carries the planar point only: lat is its y, lon its x over the city's scale (the
  // trigger's `lon · cos(ref_lat)` undone, within a few units in the last place).
  const scale = Math.cos((city.ref_lat * Math.PI) / 180)
  return rows.map(({ x: px, ...row }) => ({
    ...row,
    id: Number(row.id),
    lon: px / scale,
    planar: Math.hypot(px - x, row.lat - y),
  }))
}
