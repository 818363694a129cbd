import { type Kysely, sql } from 'kysely'

/**
 * A staged row's change state is no longer stored: it is derived from facts each row keeps anyway
 * (ADR 009). `missing_since` says whether the row is missing; `first_seen_run` and
 * `last_changed_run` say which run inserted it and which last wrote its content; a row is `new` or
 * `changed` while the run that wrote it is the city's latest successful run of its type (or finished
 * after it, or not yet), and `unchanged` once a later run has succeeded without writing it. A re-import of unchanged data
 * then writes no staging row at all, where the stored state had to be rewritten on every row the
 * previous run wrote. `last_seen_run` goes with it: keeping it true would be a write per row per run.
 */
const TABLES = ['poi_ingestion_staging', 'helper_place'] as const

export async function up(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    // Every missing row already has `missing_since`; this only guards the invariant the state now rests on.
    await sql`
      UPDATE ${sql.raw(table)} SET missing_since = updated_at
      WHERE change_state = 'missing' AND missing_since IS NULL`.execute(db)
  }
  await sql`DROP INDEX poi_staging_city_state_idx`.execute(db)
  await sql`DROP INDEX helper_place_geo_idx`.execute(db)
  for (const table of TABLES) {
    await sql`ALTER TABLE ${sql.raw(table)} DROP COLUMN change_state, DROP COLUMN last_seen_run`.execute(db)
  }
  await sql`
    CREATE INDEX helper_place_geo_idx ON helper_place USING gist (geo) INCLUDE (id, city_id, kind, name)
    WHERE missing_since IS NULL`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX helper_place_geo_idx`.execute(db)
  for (const [table, type] of [
    ['poi_ingestion_staging', 'osm'],
    ['helper_place', 'helpers'],
  ] as const) {
    await sql`
      ALTER TABLE ${sql.raw(table)}
        ADD COLUMN change_state text CHECK (change_state IN ('new', 'changed', 'unchanged', 'missing')),
        ADD COLUMN last_seen_run uuid REFERENCES ingestion_run (id)`.execute(db)
    await sql`
      UPDATE ${sql.raw(table)} AS s SET last_seen_run = s.last_changed_run,
        change_state = CASE
          WHEN s.missing_since IS NOT NULL THEN 'missing'
          WHEN coalesce(lc.finished_at, 'infinity') >= coalesce((
            SELECT max(r.finished_at) FROM ingestion_run r
            WHERE r.city_id = s.city_id AND r.type = ${type} AND r.status = 'SUCCEEDED'), '-infinity')
            THEN CASE WHEN s.first_seen_run = s.last_changed_run THEN 'new' ELSE 'changed' END
          ELSE 'unchanged' END
      FROM ingestion_run lc WHERE lc.id = s.last_changed_run`.execute(db)
    await sql`
      ALTER TABLE ${sql.raw(table)} ALTER COLUMN change_state SET NOT NULL,
        ALTER COLUMN last_seen_run SET NOT NULL`.execute(db)
  }
  await sql`CREATE INDEX poi_staging_city_state_idx ON poi_ingestion_staging (city_id, change_state)`.execute(
    db,
  )
  await sql`
    CREATE INDEX helper_place_geo_idx ON helper_place USING gist (geo) INCLUDE (id, city_id, kind, name)
    WHERE change_state <> 'missing'`.execute(db)
}
