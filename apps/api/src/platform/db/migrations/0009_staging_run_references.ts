import { type Kysely, sql } from 'kysely'

/**
 * Staging's run columns (`first_seen_run`, `last_changed_run`) name the run that wrote a row; they no
 * longer carry foreign keys to `ingestion_run` (ADR 009). Each key was checked per staged row (a
 * lookup and a row lock on the run), which cost more than writing the row: a first import of 200 k
 * rows took 8.4 s with them and 6.2 s without. The only writer is the pipeline, which writes the id of
 * the run it is executing, and runs are never deleted.
 */
const KEYS = [
  ['poi_ingestion_staging', 'first_seen_run'],
  ['poi_ingestion_staging', 'last_changed_run'],
  ['helper_place', 'first_seen_run'],
  ['helper_place', 'last_changed_run'],
] as const

export async function up(db: Kysely<any>): Promise<void> {
  for (const [table, column] of KEYS) {
    await sql`ALTER TABLE ${sql.raw(table)} DROP CONSTRAINT ${sql.raw(`${table}_${column}_fkey`)}`.execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [table, column] of KEYS) {
    await sql`
      ALTER TABLE ${sql.raw(table)} ADD CONSTRAINT ${sql.raw(`${table}_${column}_fkey`)}
        FOREIGN KEY (${sql.raw(column)}) REFERENCES ingestion_run (id)`.execute(db)
  }
}
