import { type Kysely, sql } from 'kysely'
import type { DB } from '../../platform/db/schema.js'

export interface CityExtractRow {
  city_id: number
  sha256: string
  bytes: number
  source: Record<string, unknown>
  run_id: string
}

export interface BasemapRow {
  city_id: number
  sha256: string
  bytes: number
  built_at: Date
  run_id: string
  min_zoom: number
  max_zoom: number
  bounds: number[]
  tile_count: number
}

export async function findExtract(db: Kysely<DB>, cityId: number): Promise<CityExtractRow | undefined> {
  const { rows } = await sql<CityExtractRow>`
    SELECT city_id, sha256, bytes, source, run_id FROM city_extract WHERE city_id = ${cityId}`.execute(db)
  return rows[0] ? { ...rows[0], bytes: Number(rows[0].bytes) } : undefined
}

/** Records the city's extract; returns the sha256 it replaced (its blob may now be unreferenced). */
export async function saveExtract(
  db: Kysely<DB>,
  row: Omit<CityExtractRow, 'source'> & { source: unknown },
): Promise<string | null> {
  const before = await findExtract(db, row.city_id)
  await sql`
    INSERT INTO city_extract (city_id, sha256, bytes, source, run_id)
    VALUES (${row.city_id}, ${row.sha256}, ${row.bytes}, ${JSON.stringify(row.source)}::jsonb, ${row.run_id})
    ON CONFLICT (city_id) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes,
      source = excluded.source, run_id = excluded.run_id, stored_at = now()`.execute(db)
  return before && before.sha256 !== row.sha256 ? before.sha256 : null
}

/** True when another city's extract or any basemap still names this blob. */
export async function blobInUse(db: Kysely<DB>, sha256: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT (SELECT count(*) FROM city_extract WHERE sha256 = ${sha256})
         + (SELECT count(*) FROM city_basemap WHERE sha256 = ${sha256}) AS n`.execute(db)
  return Number(rows[0]?.n ?? 0) > 0
}

export async function findBasemap(db: Kysely<DB>, cityId: number): Promise<BasemapRow | undefined> {
  const { rows } = await sql<BasemapRow>`
    SELECT city_id, sha256, bytes, built_at, run_id, min_zoom, max_zoom, bounds, tile_count
    FROM city_basemap WHERE city_id = ${cityId}`.execute(db)
  const r = rows[0]
  return r ? { ...r, bytes: Number(r.bytes), bounds: r.bounds.map(Number) } : undefined
}

export async function saveBasemap(db: Kysely<DB>, row: Omit<BasemapRow, 'built_at'>): Promise<void> {
  await sql`
    INSERT INTO city_basemap (city_id, sha256, bytes, run_id, min_zoom, max_zoom, bounds, tile_count)
    VALUES (${row.city_id}, ${row.sha256}, ${row.bytes}, ${row.run_id}, ${row.min_zoom}, ${row.max_zoom},
      ${`{${row.bounds.join(',')}}`}::double precision[], ${row.tile_count})
    ON CONFLICT (city_id) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes,
      built_at = now(), run_id = excluded.run_id, min_zoom = excluded.min_zoom,
      max_zoom = excluded.max_zoom, bounds = excluded.bounds, tile_count = excluded.tile_count`.execute(db)
}
