import { type Kysely, sql } from 'kysely'

/**
 * The offline basemap of a city (issue 14, ADR 020).
 *
 * - `city_extract`: the newest OSM extract (PBF) an osm run of a city read from a local file or an
 *   extract download, kept in the blob store so the `tiles` run (maybe another process, maybe
 *   later) can build from it. One row per city: a newer extract replaces it.
 * - `city_basemap`: the city's current basemap, a PMTiles archive in the blob store (its sha256 is
 *   the blob key and the strong ETag), with the zoom range and bounds it covers.
 * - `ingestion_run` learns the `tiles` type (one city each).
 */
const CITYLESS = `('account_purge', 'purchase_claim', 'store_event')`

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE city_extract (
      city_id integer PRIMARY KEY REFERENCES cities (id),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      bytes bigint NOT NULL,
      source jsonb NOT NULL,
      run_id uuid NOT NULL,
      stored_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)
  await sql`
    CREATE TABLE city_basemap (
      city_id integer PRIMARY KEY REFERENCES cities (id),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      bytes bigint NOT NULL,
      built_at timestamptz NOT NULL DEFAULT now(),
      run_id uuid NOT NULL,
      min_zoom smallint NOT NULL,
      max_zoom smallint NOT NULL,
      bounds double precision[] NOT NULL CHECK (cardinality(bounds) = 4),
      tile_count integer NOT NULL
    )`.execute(db)

  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish', 'content_import', 'tiles', ${sql.raw(CITYLESS.slice(1, -1))}))`.execute(
    db,
  )
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_city_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_city_check
      CHECK ((city_id IS NULL) = (type IN ${sql.raw(CITYLESS)}))`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM ingestion_run WHERE type = 'tiles'`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish', 'content_import', ${sql.raw(CITYLESS.slice(1, -1))}))`.execute(
    db,
  )
  await sql`DROP TABLE city_basemap, city_extract`.execute(db)
}
