import { type Kysely, sql } from 'kysely'
import { up as createRunSeen } from './0005_run_seen_keys.js'

/**
 * Ingestion stages records in one pass (see docs/ingestion.md): change detection is against the
 * city's staged hashes read into memory, and a stopped run resumes by reading its data again and
 * skipping what its checkpoint says is settled. The per-run buffers of the earlier two-pass pipeline
 * (every record written to `ingestion_run_item`, then to staging) are no longer written or read.
 * A run that was between the passes when this lands restarts its items phase; what it had already
 * staged is found unchanged and counted once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE ingestion_run_seen`.execute(db)
  await sql`DROP TABLE ingestion_run_item`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ingestion_run_item (
      run_id uuid NOT NULL REFERENCES ingestion_run (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      osm_type text NOT NULL,
      osm_id bigint NOT NULL,
      record jsonb NOT NULL,
      content_hash text NOT NULL,
      PRIMARY KEY (run_id, seq)
    )`.execute(db)
  await sql`CREATE INDEX ingestion_run_item_osm_idx ON ingestion_run_item (run_id, osm_type, osm_id)`.execute(
    db,
  )
  // Migrations never change once landed, so 0005's own statement recreates its table.
  await createRunSeen(db)
}
