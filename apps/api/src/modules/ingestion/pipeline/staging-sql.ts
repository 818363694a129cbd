import { type Kysely, sql } from 'kysely'
import type { DB } from '../../../platform/db/schema.js'
import type { Checkpoint } from './checkpoint.js'
import type { TargetSpec } from './targets.js'

type Db = Kysely<DB>

export interface ItemRow {
  osm_type: string
  osm_id: number
  content_hash: string
  /** The normalised record as JSON; null when staging already holds exactly this content. */
  record: string | null
}

/**
 * Of these items, the keys whose staged row already has the same content hash (and is not missing):
 * such items need no record, only their presence. Read-only, one index probe per item.
 */
export async function unchangedKeys(
  db: Db,
  spec: TargetSpec,
  cityId: number,
  items: ReadonlyArray<Pick<ItemRow, 'osm_type' | 'osm_id' | 'content_hash'>>,
): Promise<Set<string>> {
  if (items.length === 0) return new Set()
  const { rows } = await sql<{ osm_type: string; osm_id: number }>`
    SELECT s.osm_type, s.osm_id
    FROM unnest(${items.map((i) => i.osm_type)}::text[], ${items.map((i) => i.osm_id)}::bigint[],
                ${items.map((i) => i.content_hash)}::text[]) AS k (osm_type, osm_id, content_hash)
    JOIN ${sql.raw(spec.table)} s
      ON s.city_id = ${cityId} AND s.osm_type = k.osm_type AND s.osm_id = k.osm_id
    WHERE s.content_hash = k.content_hash AND s.change_state <> 'missing'`.execute(db)
  return new Set(rows.map((r) => itemKey(r.osm_type, r.osm_id)))
}

export function itemKey(osmType: string, osmId: number): string {
  return `${osmType[0]}${osmId}`
}

/**
 * One statement per batch whatever its size. Items with a record travel as one JSON array parameter
 * ([seq, type, id, hash, record] per item), which Postgres parses far faster than an array of jsonb;
 * items staging already holds unchanged (no record) are kept only as keys, one `ingestion_run_seen`
 * row per batch, so an unchanged re-import writes a handful of rows instead of one per object.
 */
export async function insertItems(db: Db, runId: string, firstSeq: number, rows: readonly ItemRow[]) {
  if (rows.length === 0) return
  const changed: string[] = []
  const seenTypes: string[] = []
  const seenIds: number[] = []
  rows.forEach((r, i) => {
    if (r.record === null) {
      seenTypes.push(r.osm_type)
      seenIds.push(r.osm_id)
    } else {
      changed.push(
        `[${firstSeq + i},${JSON.stringify(r.osm_type)},${r.osm_id},${JSON.stringify(r.content_hash)},${r.record}]`,
      )
    }
  })
  await sql`
    WITH seen AS (
      INSERT INTO ingestion_run_seen (run_id, first_seq, osm_types, osm_ids)
      SELECT ${runId}::uuid, ${firstSeq}::int, ${seenTypes}::text[], ${seenIds}::bigint[]
      WHERE cardinality(${seenTypes}::text[]) > 0
    )
    INSERT INTO ingestion_run_item (run_id, seq, osm_type, osm_id, record, content_hash)
    SELECT ${runId}::uuid, (e->>0)::int, e->>1, (e->>2)::bigint, e->4, e->>3
    FROM jsonb_array_elements(${`[${changed.join(',')}]`}::jsonb) AS e`.execute(db)
}

/** Every key a run saw: its buffered items and its compact unchanged keys. */
function runKeys(runId: string) {
  return sql`(SELECT osm_type, osm_id FROM ingestion_run_item WHERE run_id = ${runId}::uuid
              UNION ALL
              SELECT k.osm_type, k.osm_id FROM ingestion_run_seen r,
                     unnest(r.osm_types, r.osm_ids) AS k (osm_type, osm_id)
              WHERE r.run_id = ${runId}::uuid)`
}

export async function deleteItems(db: Db, runId: string): Promise<void> {
  await sql`DELETE FROM ingestion_run_item WHERE run_id = ${runId}`.execute(db)
  await sql`DELETE FROM ingestion_run_seen WHERE run_id = ${runId}`.execute(db)
}

/** Saved in the caller's transaction, so a batch and the checkpoint that records it commit together. */
export async function writeCheckpoint(db: Db, runId: string, checkpoint: Checkpoint): Promise<void> {
  await sql`UPDATE ingestion_run SET checkpoint = ${JSON.stringify(checkpoint)}::jsonb, updated_at = now()
            WHERE id = ${runId}`.execute(db)
}

/**
 * Writes items (from, to] to staging in one set-based statement. Rows whose content hash is unchanged
 * are not touched at all (no new row version, no row lock, no index churn), which is what makes
 * re-importing unchanged data cheap; a row that was missing and is back is written again. Items
 * without a record (found unchanged when buffered) are skipped; the ON CONFLICT condition repeats
 * the hash test so a row changed meanwhile is never overwritten by equal content.
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
      LEFT JOIN ${table} old ON old.city_id = ${args.cityId} AND old.osm_type = i.osm_type AND old.osm_id = i.osm_id
      CROSS JOIN LATERAL jsonb_populate_record(NULL::${table}, i.record) r
      WHERE i.run_id = ${args.runId} AND i.seq > ${args.from} AND i.seq <= ${args.to}
        AND jsonb_typeof(i.record) = 'object'
        -- Unchanged rows are filtered here, before ON CONFLICT, which would lock (write) them.
        AND (old.id IS NULL OR old.content_hash IS DISTINCT FROM i.content_hash OR old.change_state = 'missing')
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
      AND NOT EXISTS (SELECT 1 FROM ${runKeys(args.runId)} AS i
                      WHERE i.osm_type = s.osm_type AND i.osm_id = s.osm_id)`.execute(db)
  await sql`
    UPDATE ${table} AS s SET change_state = 'unchanged', last_seen_run = ${args.runId}::uuid
    FROM ${runKeys(args.runId)} AS i
    WHERE s.city_id = ${args.cityId} AND s.osm_type = i.osm_type AND s.osm_id = i.osm_id
      AND s.change_state IN ('new', 'changed') AND s.last_changed_run <> ${args.runId}::uuid`.execute(db)
  return { missing: Number(missing.numAffectedRows ?? 0) }
}
