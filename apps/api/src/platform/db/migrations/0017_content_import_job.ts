import { type Kysely, sql } from 'kysely'

/**
 * Issue 12: the content import becomes a job. `ingestion_run` learns the city-bound type
 * `content_import` (one run per city and date, key `content_import|{city}|{boundary_ref}|{date}`):
 * the city CHECK of migration 0014 already binds every type but `account_purge` to a city. Runs
 * learn the trigger `start`: the service enqueues the import of every city with content when it starts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish', 'account_purge', 'content_import'))`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_trigger_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_trigger_check
      CHECK (trigger IN ('admin', 'cron', 'cli', 'chain', 'start'))`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM ingestion_run WHERE type = 'content_import' OR trigger = 'start'`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_trigger_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_trigger_check
      CHECK (trigger IN ('admin', 'cron', 'cli', 'chain'))`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish', 'account_purge'))`.execute(db)
}
