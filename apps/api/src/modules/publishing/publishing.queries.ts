import { type Kysely, sql, type Transaction } from 'kysely'
import type { DB } from '../../platform/db/schema.js'
import type { GateResults } from './gates.js'

type Db = Kysely<DB> | Transaction<DB>

export interface StagedForGates {
  id: number
  osm_type: string
  osm_id: number
  osm_version: number | null
  osm_timestamp: Date | null
  source_url: string
  license: string
  attribution: string
  name_ru: string | null
  category: string
  lat: number
  lon: number
  missing: boolean
  review_state: string | null
  review_reason: string | null
  reviewed_by: string | null
  content_hash: string
  poi_published: boolean | null
  poi_hash: string | null
}

/** One batch of a city's staged POIs in id order, with the state of their published row if any. */
export async function stagedBatch(db: Db, cityId: number, afterId: number, limit: number) {
  const { rows } = await sql<StagedForGates>`
    SELECT s.id, s.osm_type, s.osm_id, s.osm_version, s.osm_timestamp, s.source_url, s.license, s.attribution,
           s.name_ru, s.category, s.lat, s.lon, s.missing_since IS NOT NULL AS missing, s.review_state, s.review_reason, s.reviewed_by,
           s.content_hash, p.published AS poi_published, p.staging_hash AS poi_hash
    FROM poi_ingestion_staging s LEFT JOIN poi p ON p.staging_id = s.id
    WHERE s.city_id = ${cityId} AND s.id > ${afterId}
    ORDER BY s.id LIMIT ${limit}`.execute(db)
  return rows.map((r) => ({ ...r, id: Number(r.id), osm_id: Number(r.osm_id) }))
}

export async function recordGateResults(
  db: Db,
  results: Array<{ id: number; results: GateResults; passed: boolean }>,
): Promise<void> {
  if (results.length === 0) return
  const payload = JSON.stringify(results.map((r) => ({ id: r.id, r: r.results, p: r.passed })))
  await sql`
    UPDATE poi_ingestion_staging s
    SET gate_results = v.r, gates_passed = v.p, gates_evaluated_at = now()
    FROM jsonb_to_recordset(${payload}::jsonb) AS v(id bigint, r jsonb, p boolean)
    WHERE s.id = v.id`.execute(db)
}

/**
 * Publishes (or refreshes) the POIs of these staged rows: one row per staged row, keyed by staging id.
 * Position, names and links are copied from staging; `sources` names the OSM object and version.
 */
export async function upsertPublished(db: Db, stagingIds: number[]): Promise<void> {
  if (stagingIds.length === 0) return
  await sql`
    INSERT INTO poi (staging_id, city_id, osm_type, osm_id, category, name_ru, lat, lon, geo, address,
                     opening_hours, website, phone, wikidata, wikipedia, heritage, sources, license,
                     attribution, staging_hash)
    SELECT s.id, s.city_id, s.osm_type, s.osm_id, s.category, s.name_ru, s.lat, s.lon,
           point(s.lon * cos(radians(c.ref_lat)), s.lat), s.address, s.opening_hours, s.website, s.phone,
           s.wikidata, s.wikipedia, s.heritage,
           jsonb_build_array(jsonb_build_object(
             'type', 'osm', 'osm_type', s.osm_type, 'osm_id', s.osm_id, 'version', s.osm_version,
             'timestamp', s.osm_timestamp, 'url', s.source_url)),
           s.license, s.attribution, s.content_hash
    FROM poi_ingestion_staging s JOIN cities c ON c.id = s.city_id
    WHERE s.id = ANY(${stagingIds}::bigint[])
    ON CONFLICT (staging_id) DO UPDATE SET
      category = EXCLUDED.category, name_ru = EXCLUDED.name_ru, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
      address = EXCLUDED.address, opening_hours = EXCLUDED.opening_hours, website = EXCLUDED.website,
      phone = EXCLUDED.phone, wikidata = EXCLUDED.wikidata, wikipedia = EXCLUDED.wikipedia,
      heritage = EXCLUDED.heritage, sources = EXCLUDED.sources, license = EXCLUDED.license,
      attribution = EXCLUDED.attribution, staging_hash = EXCLUDED.staging_hash,
      published_at = CASE WHEN poi.published THEN poi.published_at ELSE now() END,
      published = true, unpublished_reason = NULL, unpublished_at = NULL, updated_at = now()`.execute(db)
}

/** Takes POIs off publication, keeping the rows: with the reason and the time. */
export async function unpublish(db: Db, rows: Array<{ stagingId: number; reason: string }>): Promise<number> {
  if (rows.length === 0) return 0
  const payload = JSON.stringify(rows.map((r) => ({ id: r.stagingId, reason: r.reason })))
  const result = await sql`
    UPDATE poi p SET published = false, unpublished_reason = v.reason, unpublished_at = now(), updated_at = now()
    FROM jsonb_to_recordset(${payload}::jsonb) AS v(id bigint, reason text)
    WHERE p.staging_id = v.id AND p.published`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}

export async function saveRunCheckpoint(db: Db, runId: string, checkpoint: unknown): Promise<void> {
  await sql`UPDATE ingestion_run SET checkpoint = ${JSON.stringify(checkpoint)}::jsonb WHERE id = ${runId}`.execute(
    db,
  )
}

export async function countStaged(db: Db, cityId: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM poi_ingestion_staging WHERE city_id = ${cityId}`.execute(db)
  return rows[0]?.n ?? 0
}

export async function loadCityForPublish(db: Db, cityId: number) {
  return db
    .selectFrom('cities')
    .select(['id', 'slug', 'boundary', 'bbox_min_lon', 'bbox_min_lat', 'bbox_max_lon', 'bbox_max_lat'])
    .where('id', '=', cityId)
    .executeTakeFirstOrThrow()
}
