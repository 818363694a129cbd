import { type Kysely, sql } from 'kysely'
import type { DB } from '../../platform/db/schema.js'
import type { BuiltTile, MapPoint } from './tile-pyramid.js'

export async function publishedPois(db: Kysely<DB>, cityId: number): Promise<MapPoint[]> {
  const { rows } = await sql<MapPoint>`
    SELECT id, name_ru AS name, category AS tag, lat, lon FROM poi
    WHERE published AND city_id = ${cityId} ORDER BY id`.execute(db)
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}

/** Helper places still present upstream (the same rows "Nearby" offers). */
export async function currentHelpers(db: Kysely<DB>, cityId: number): Promise<MapPoint[]> {
  const { rows } = await sql<MapPoint>`
    SELECT id, name, kind AS tag, lat, lon FROM helper_place
    WHERE missing_since IS NULL AND city_id = ${cityId} ORDER BY id`.execute(db)
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}

export interface TileBuildRow {
  id: number
  city_id: number
  data_hash: string
  poi_count: number
  helper_count: number
  tile_count: number
  bytes: number
  min_zoom: number
  max_zoom: number
  bounds: number[]
  built_at: Date
}

function buildRow(r: TileBuildRow): TileBuildRow {
  return { ...r, id: Number(r.id), bytes: Number(r.bytes), bounds: r.bounds.map(Number) }
}

export async function latestBuild(db: Kysely<DB>, cityId: number): Promise<TileBuildRow | undefined> {
  const { rows } = await sql<TileBuildRow>`
    SELECT * FROM map_tile_build WHERE city_id = ${cityId} ORDER BY id DESC LIMIT 1`.execute(db)
  return rows[0] ? buildRow(rows[0]) : undefined
}

export async function findBuildByHash(db: Kysely<DB>, cityId: number, hash: string) {
  const { rows } = await sql<TileBuildRow>`
    SELECT * FROM map_tile_build WHERE city_id = ${cityId} AND data_hash = ${hash}`.execute(db)
  return rows[0] ? buildRow(rows[0]) : undefined
}

export async function insertBuild(
  db: Kysely<DB>,
  b: Omit<TileBuildRow, 'id' | 'built_at'>,
  tiles: BuiltTile[],
): Promise<TileBuildRow> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<TileBuildRow>`
      INSERT INTO map_tile_build (city_id, data_hash, poi_count, helper_count, tile_count, bytes, min_zoom,
                                  max_zoom, bounds)
      VALUES (${b.city_id}, ${b.data_hash}, ${b.poi_count}, ${b.helper_count}, ${b.tile_count}, ${b.bytes},
              ${b.min_zoom}, ${b.max_zoom}, ${sql`ARRAY[${sql.join(b.bounds)}]::float8[]`})
      RETURNING *`.execute(trx)
    const build = buildRow(rows[0]!)
    for (let i = 0; i < tiles.length; i += 500) {
      const chunk = tiles.slice(i, i + 500)
      await sql`
        INSERT INTO map_tile (build_id, z, x, y, data, sha256)
        VALUES ${sql.join(chunk.map((t) => sql`(${build.id}, ${t.z}, ${t.x}, ${t.y}, ${t.gzip}, ${t.sha256})`))}`.execute(
        trx,
      )
    }
    return build
  })
}

/** Older builds of the city beyond the newest `keep` go (their tiles cascade). */
export async function pruneBuilds(db: Kysely<DB>, cityId: number, keep: number): Promise<number> {
  const result = await sql`
    DELETE FROM map_tile_build WHERE city_id = ${cityId} AND id NOT IN (
      SELECT id FROM map_tile_build WHERE city_id = ${cityId} ORDER BY id DESC LIMIT ${keep})`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}

/** Every stored tile of a build (gzip MVT), for the pack's PMTiles archive. */
export async function buildTiles(db: Kysely<DB>, buildId: number) {
  const { rows } = await sql<{ z: number; x: number; y: number; data: Uint8Array }>`
    SELECT z, x, y, data FROM map_tile WHERE build_id = ${buildId}`.execute(db)
  return rows
}

export async function findTile(db: Kysely<DB>, buildId: number, z: number, x: number, y: number) {
  const { rows } = await sql<{ data: Uint8Array; sha256: string }>`
    SELECT data, sha256 FROM map_tile WHERE build_id = ${buildId} AND z = ${z} AND x = ${x} AND y = ${y}`.execute(
    db,
  )
  return rows[0]
}
