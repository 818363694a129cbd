import { type Kysely, sql } from 'kysely'

/**
 * Map data: the vector-tile archive of a city, built once per published data version (a hash over
 * the city's published POIs and current helper places) and served from here, never re-encoded per
 * request. `map_tile_build` is one built version; its tiles are gzip-compressed MVTs.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE map_tile_build (
      id bigserial PRIMARY KEY,
      city_id integer NOT NULL REFERENCES cities (id),
      data_hash text NOT NULL,
      poi_count integer NOT NULL,
      helper_count integer NOT NULL,
      tile_count integer NOT NULL,
      bytes bigint NOT NULL,
      min_zoom smallint NOT NULL,
      max_zoom smallint NOT NULL,
      bounds double precision[] NOT NULL,
      built_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (city_id, data_hash)
    )`.execute(db)
  await sql`CREATE INDEX map_tile_build_city_latest ON map_tile_build (city_id, id DESC)`.execute(db)
  await sql`
    CREATE TABLE map_tile (
      build_id bigint NOT NULL REFERENCES map_tile_build (id) ON DELETE CASCADE,
      z smallint NOT NULL,
      x integer NOT NULL,
      y integer NOT NULL,
      data bytea NOT NULL,
      sha256 text NOT NULL,
      PRIMARY KEY (build_id, z, x, y)
    )`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE map_tile`.execute(db)
  await sql`DROP TABLE map_tile_build`.execute(db)
}
