import { type Kysely, sql } from 'kysely'
import type { DB } from '../../../platform/db/schema.js'
import type { Checkpoint } from './checkpoint.js'
import type { TargetSpec } from './targets.js'

type Db = Kysely<DB>

export interface ItemRow {
  osm_type: string
  osm_id: number
  record: string
  content_hash: string
}

/** One statement per batch whatever its size: arrays as parameters, unnested into rows. */
export async function insertItems(db: Db, runId: string, firstSeq: number, rows: readonly ItemRow[]) {
  if (rows.length === 0) return
  await sql`
    INSERT INTO ingestion_run_item (run_id, seq, osm_type, osm_id, record, content_hash)
    SELECT ${runId}::uuid, t.seq, t.osm_type, t.osm_id, t.record, t.content_hash
    FROM unnest(${rows.map((_, i) => firstSeq + i)}::int[], ${rows.map((r) => r.osm_type)}::text[],
                ${rows.map((r) => r.osm_id)}::bigint[], ${rows.map((r) => r.record)}::jsonb[],
                ${rows.map((r) => r.content_hash)}::text[])
      AS t (seq, osm_type, osm_id, record, content_hash)`.execute(db)
}

export async function deleteItems(db: Db, runId: string): Promise<void> {
  await sql`DELETE FROM ingestion_run_item WHERE run_id = ${runId}`.execute(db)
}

/** Saved in the caller's transaction, so a batch and the checkpoint that records it commit together. */
export async function writeCheckpoint(db: Db, runId: string, checkpoint: Checkpoint): Promise<void> {
  await sql`UPDATE ingestion_run SET checkpoint = ${JSON.stringify(checkpoint)}::jsonb, updated_at = now()
            WHERE id = ${runId}`.execute(db)
}

/**
 * Writes items (from, to] to staging in one set-based statement. Rows whose content hash is unchanged
 * are not touched at all (no new row version, no index churn), which is what makes re-importing
 * unchanged data cheap; a row that was missing and is back is written again.
 */
export async function upsertBatch(
  db: Db,
  spec: TargetSpec,
  args: { cityId: number; runId: string; from: number; to: number },
): Promise<{ inserted: number; updated: number }> {
  const cols = spec.columns
  const table = sql.raw(spec.table)
  const list = sql.raw(cols.join(', '))
  const fromRecord = sql.raw(cols.map((c) => `r.${c}`).join(', '))
  const assign = sql.raw(cols.map((c) => `${c} = EXCLUDED.${c}`).join(', '))
  const { rows } = await sql<{ inserted: number; updated: number }>`
    WITH written AS (
      INSERT INTO ${table} AS s (city_id, osm_type, osm_id, ${list},
                                 first_seen_run, last_seen_run, last_changed_run, change_state)
      SELECT ${args.cityId}::int, i.osm_type, i.osm_id, ${fromRecord},
             ${args.runId}::uuid, ${args.runId}::uuid, ${args.runId}::uuid, 'new'
      FROM ingestion_run_item i
      CROSS JOIN LATERAL jsonb_populate_record(NULL::${table}, i.record) r
      WHERE i.run_id = ${args.runId} AND i.seq > ${args.from} AND i.seq <= ${args.to}
      ON CONFLICT (city_id, osm_type, osm_id) DO UPDATE
        SET ${assign}, last_seen_run = EXCLUDED.last_seen_run, last_changed_run = EXCLUDED.last_changed_run,
            change_state = 'changed', missing_since = NULL, updated_at = now()
        WHERE s.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR s.change_state = 'missing'
      RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated
    FROM written`.execute(db)
  return rows[0] ?? { inserted: 0, updated: 0 }
}

/**
 * Closes a run over the city's staged rows: rows this run did not see become `missing` (kept, never
 * deleted: the publisher decides), and rows it saw unchanged that were still flagged new/changed from an
 * earlier run become `unchanged`. Their data did not change, so `updated_at` stays.
 */
export async function closeRun(
  db: Db,
  spec: TargetSpec,
  args: { cityId: number; runId: string },
): Promise<{ missing: number }> {
  const table = sql.raw(spec.table)
  const missing = await sql`
    UPDATE ${table} AS s SET change_state = 'missing', missing_since = now(), updated_at = now()
    WHERE s.city_id = ${args.cityId} AND s.change_state <> 'missing'
      AND NOT EXISTS (SELECT 1 FROM ingestion_run_item i
                      WHERE i.run_id = ${args.runId} AND i.osm_type = s.osm_type AND i.osm_id = s.osm_id)`.execute(
    db,
  )
  await sql`
    UPDATE ${table} AS s SET change_state = 'unchanged', last_seen_run = ${args.runId}::uuid
    FROM ingestion_run_item i
    WHERE i.run_id = ${args.runId} AND s.city_id = ${args.cityId}
      AND s.osm_type = i.osm_type AND s.osm_id = i.osm_id
      AND s.change_state IN ('new', 'changed') AND s.last_changed_run <> ${args.runId}::uuid`.execute(db)
  return { missing: Number(missing.numAffectedRows ?? 0) }
}
