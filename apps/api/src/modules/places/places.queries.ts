import { type Kysely, sql } from 'kysely'
import type { DB } from '../../platform/db/schema.js'

export async function categoryCounts(db: Kysely<DB>, cityId: number) {
  const { rows } = await sql<{ category: string; count: number }>`
    SELECT category, count(*)::int AS count FROM poi WHERE published AND city_id = ${cityId}
    GROUP BY category ORDER BY count DESC, category`.execute(db)
  return rows
}

export interface PoiListRow {
  id: number
  name_ru: string
  category: string
  lat: number
  lon: number
}

export async function listCityPois(
  db: Kysely<DB>,
  q: {
    cityId: number
    category?: string
    bbox?: [number, number, number, number]
    after?: number
    limit: number
  },
): Promise<PoiListRow[]> {
  let query = db
    .selectFrom('poi')
    .select(['id', 'name_ru', 'category', 'lat', 'lon'])
    .where('published', '=', true)
    .where('city_id', '=', q.cityId)
    .where('id', '>', q.after ?? 0)
  if (q.category) query = query.where('category', '=', q.category)
  if (q.bbox) {
    const [minLon, minLat, maxLon, maxLat] = q.bbox
    query = query
      .where('lon', '>=', minLon)
      .where('lon', '<=', maxLon)
      .where('lat', '>=', minLat)
      .where('lat', '<=', maxLat)
  }
  const rows = await query
    .orderBy('id')
    .limit(q.limit + 1)
    .execute()
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}

/** A published POI of one of the tenant's active cities, or nothing. */
export async function findTenantPoi(db: Kysely<DB>, tenantId: number, id: number) {
  const row = await db
    .selectFrom('poi as p')
    .innerJoin('cities as c', 'c.id', 'p.city_id')
    .innerJoin('tenant_cities as tc', 'tc.city_id', 'p.city_id')
    .selectAll('p')
    .select('c.slug as city_slug')
    .where('tc.tenant_id', '=', tenantId)
    .where('c.active', '=', true)
    .where('p.published', '=', true)
    .where('p.id', '=', id)
    .executeTakeFirst()
  return row ? { ...row, id: Number(row.id), osm_id: Number(row.osm_id) } : undefined
}

export type PoiDetailRow = NonNullable<Awaited<ReturnType<typeof findTenantPoi>>>

export interface SearchRow {
  id: number
  name_ru: string
  category: string
  city_slug: string
  lat: number
  lon: number
  score: number
}

/**
 * Trigram search over normalised Russian names. Candidates: word similarity above pg_trgm's threshold
 * (the `<%` operator, served by the GIN index) or the query as a substring. Ranked: exact name, name
 * starting with the query, then word similarity and whole-name similarity.
 */
export async function searchPois(
  db: Kysely<DB>,
  q: { tenantId: number; cityId?: number; text: string; like: string; limit: number },
): Promise<SearchRow[]> {
  const city = q.cityId === undefined ? sql`` : sql`AND p.city_id = ${q.cityId}`
  const { rows } = await sql<SearchRow>`
    SELECT p.id, p.name_ru, p.category, c.slug AS city_slug, p.lat, p.lon,
           round((word_similarity(${q.text}, p.search_name) * 0.7
                  + similarity(${q.text}, p.search_name) * 0.3)::numeric, 3)::float8 AS score
    FROM poi p
    JOIN cities c ON c.id = p.city_id AND c.active
    JOIN tenant_cities tc ON tc.city_id = p.city_id AND tc.tenant_id = ${q.tenantId}
    WHERE p.published ${city}
      AND (${q.text} <% p.search_name OR p.search_name LIKE ${`%${q.like}%`})
    ORDER BY (p.search_name = ${q.text}) DESC, (p.search_name LIKE ${`${q.like}%`}) DESC,
             word_similarity(${q.text}, p.search_name) DESC, similarity(${q.text}, p.search_name) DESC, p.id
    LIMIT ${q.limit}`.execute(db)
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}

export async function geojsonRows(db: Kysely<DB>, cityId: number) {
  const { rows } = await sql<PoiListRow>`
    SELECT id, name_ru, category, lat, lon FROM poi WHERE published AND city_id = ${cityId} ORDER BY id`.execute(
    db,
  )
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}
