import { type Kysely, sql } from 'kysely'
import type { DB } from '../../src/platform/db/schema.js'

/**
 * A fingerprint of every business table (row count and an md5 over the rows' text) in the public
 * schema, found at run time so a new table is covered without touching the tests. Equal fingerprints
 * before and after a burst of requests mean those requests changed nothing.
 */
export async function snapshotTables(db: Kysely<DB>): Promise<Record<string, string>> {
  const { rows: tables } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_migration%'
    ORDER BY table_name`.execute(db)
  const out: Record<string, string> = {}
  for (const { name } of tables) {
    const { rows } = await sql<{ n: number; h: string | null }>`
      SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h
      FROM ${sql.table(name)} t`.execute(db)
    out[name] = `${rows[0]!.n}:${rows[0]!.h}`
  }
  return out
}
