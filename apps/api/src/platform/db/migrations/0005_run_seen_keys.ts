import { type Kysely, sql } from 'kysely'

/**
 * Keys a run saw whose content staging already holds, one row per batch (arrays), instead of one
 * item row per object: what a re-import of unchanged data writes shrinks to a few rows. Finalize
 * reads them with the run's items to tell what is missing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ingestion_run_seen (
      run_id uuid NOT NULL REFERENCES ingestion_run (id) ON DELETE CASCADE,
      first_seq integer NOT NULL,
      osm_types text[] NOT NULL,
      osm_ids bigint[] NOT NULL,
      PRIMARY KEY (run_id, first_seq),
      CHECK (cardinality(osm_types) = cardinality(osm_ids))
    )`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE ingestion_run_seen`.execute(db)
}
