import { type Kysely, sql } from 'kysely'

/**
 * The covering GiST indexes of "Nearby" no longer carry lat and lon: the planar point holds both
 * (`geo = (lon · cos(ref_lat), lat)`, exact in lat and within a few units in the last place in lon),
 * so the scan reads them from `geo`. 16 bytes less per leaf tuple: the POI index shrinks by about a
 * fifth, and more of it stays in shared buffers (ADR 007).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX poi_geo_idx`.execute(db)
  await sql`
    CREATE INDEX poi_geo_idx ON poi USING gist (geo) INCLUDE (id, city_id, category, name_ru)
    WHERE published`.execute(db)
  await sql`DROP INDEX helper_place_geo_idx`.execute(db)
  await sql`
    CREATE INDEX helper_place_geo_idx ON helper_place USING gist (geo) INCLUDE (id, city_id, kind, name)
    WHERE change_state <> 'missing'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX poi_geo_idx`.execute(db)
  await sql`
    CREATE INDEX poi_geo_idx ON poi USING gist (geo) INCLUDE (id, city_id, category, name_ru, lat, lon)
    WHERE published`.execute(db)
  await sql`DROP INDEX helper_place_geo_idx`.execute(db)
  await sql`
    CREATE INDEX helper_place_geo_idx ON helper_place USING gist (geo) INCLUDE (id, city_id, kind, name, lat, lon)
    WHERE change_state <> 'missing'`.execute(db)
}
