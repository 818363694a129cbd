import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Kysely, sql } from 'kysely'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { DB } from '../../../platform/db/schema.js'
import type { Checkpoint } from './checkpoint.js'
import type { TargetSpec } from './targets.js'

type Db = Kysely<DB>

/** A normalised record about to be staged. */
export interface StagedRecord {
  osm_type: string
  osm_id: number
  content_hash: string
}

const TYPE_CODES: Readonly<Record<string, number>> = { node: 1, way: 2, relation: 3 }
const CODE_TYPES = ['', 'node', 'way', 'relation'] as const

/**
 * One number per OSM object, `id · 4 + type code` (node 1, way 2, relation 3): cheaper to make and
 * to hash than a string, which counts when a city's every key is looked up on every run. Exact for
 * ids up to 2^50; OSM's are near 2^34.
 */
export function itemKey(osmType: string, osmId: number): number {
  const code = TYPE_CODES[osmType]
  const key = osmId * 4 + (code ?? 0)
  if (code === undefined || !Number.isSafeInteger(key))
    throw new Error(`not an OSM object: ${osmType}/${osmId}`)
  return key
}

/** The OSM type and id an `itemKey` was made from. */
export function keyParts(key: number): { type: string; id: number } {
  const code = ((key % 4) + 4) % 4
  return { type: CODE_TYPES[code]!, id: (key - code) / 4 }
}

/**
 * Every staged key of the city (as `itemKey`) with its content hash, or null for a row marked missing
 * (seeing it again writes it back, even with the same content). Read once per delivery: change
 * detection is then a lookup in memory, and an unchanged record costs the database nothing. The key
 * is computed by the server and the missing flag folded into the hash: two values a row to decode.
 */
export async function loadKnown(
  db: Db,
  spec: TargetSpec,
  args: { cityId: number },
): Promise<Map<number, string | null>> {
  const { rows } = await sql<{ key: number; hash: string | null }>`
    SELECT osm_id * 4 + CASE osm_type WHEN 'node' THEN 1 WHEN 'way' THEN 2 ELSE 3 END AS key,
           CASE WHEN missing_since IS NULL THEN content_hash END AS hash
    FROM ${sql.raw(spec.table)} WHERE city_id = ${args.cityId}`.execute(db)
  const known = new Map<number, string | null>()
  for (const r of rows) known.set(Number(r.key), r.hash)
  return known
}

/**
 * Writes new and changed records in one set-based statement: the records travel as one jsonb array
 * (parsed once, far faster than a parameter per value) and are turned into rows of the staging table
 * by `jsonb_populate_recordset`. The ON CONFLICT condition repeats the change test, so a row that
 * another run wrote meanwhile with equal content is neither rewritten nor counted.
 */
export function upsertRecords(
  spec: TargetSpec,
  args: { cityId: number; runId: string },
  records: readonly string[],
) {
  const cols = spec.columns
  const table = sql.raw(spec.table)
  const list = sql.raw(cols.join(', '))
  const fromRecord = sql.raw(cols.map((c) => `r.${c}`).join(', '))
  const assign = sql.raw(cols.map((c) => `${c} = EXCLUDED.${c}`).join(', '))
  return sql`
    INSERT INTO ${table} AS s (city_id, osm_type, osm_id, ${list},
                               first_seen_run, last_changed_run)
    SELECT ${args.cityId}::int, r.osm_type, r.osm_id, ${fromRecord}, ${args.runId}::uuid, ${args.runId}::uuid
    FROM jsonb_populate_recordset(NULL::${table}, ${`[${records.join(',')}]`}::jsonb) AS r
    ON CONFLICT (city_id, osm_type, osm_id) DO UPDATE
      SET ${assign}, last_changed_run = EXCLUDED.last_changed_run, missing_since = NULL, updated_at = now()
      WHERE s.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR s.missing_since IS NOT NULL`
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** One value in COPY's text format: `\N` for null, objects as JSON, the four special characters escaped. */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!)
}

/**
 * Records staging does not hold yet, written with COPY (Postgres's bulk path: rows go to the table
 * and its indexes a page at a time, not one statement row at a time), on the caller's client and in
 * its transaction. A key that another run staged meanwhile fails the COPY with a unique violation
 * (SQLSTATE 23505): the caller rolls back and writes the batch through `upsertRecords` instead.
 */
export async function copyNewRecords(
  client: pg.PoolClient,
  spec: TargetSpec,
  args: { cityId: number; runId: string },
  records: readonly StagedRecord[],
): Promise<void> {
  const head = [String(args.cityId)]
  const tail = [args.runId, args.runId]
  const lines = function* () {
    let chunk = ''
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as unknown as Record<string, unknown>
      const fields = [...head, copyField(r.osm_type), copyField(r.osm_id)]
      for (const c of spec.columns) fields.push(copyField(r[c]))
      chunk += `${[...fields, ...tail].join('\t')}\n`
      if (chunk.length > 65_536) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk) yield chunk
  }
  const columns = ['city_id', 'osm_type', 'osm_id', ...spec.columns]
  await pipeline(
    Readable.from(lines()),
    client.query(
      copyFrom(`COPY ${spec.table} (${columns.join(', ')}, first_seen_run, last_changed_run) FROM STDIN`),
    ),
  )
}

export function checkpointUpdate(runId: string, checkpoint: Checkpoint) {
  return sql`UPDATE ingestion_run SET checkpoint = ${JSON.stringify(checkpoint)}::jsonb, updated_at = now()
             WHERE id = ${runId}`
}

/** Saved in the caller's transaction, so a batch and the checkpoint that records it commit together. */
export async function writeCheckpoint(db: Db, runId: string, checkpoint: Checkpoint): Promise<void> {
  await checkpointUpdate(runId, checkpoint).execute(db)
}

type Keys = { types: string[]; ids: number[] }

/**
 * Closes a run over the city's staged rows: the keys it did not see become missing (kept, never
 * deleted: the publisher decides). Rows it saw unchanged are not touched: their state follows from
 * the run succeeding (ADR 009). Returns what the run wrote, counted from staging itself, so a run
 * resumed any number of times counts each row once.
 */
export async function closeRun(
  db: Db,
  spec: TargetSpec,
  args: { cityId: number; runId: string; missing: Keys },
): Promise<{ missing: number; new: number; changed: number }> {
  const table = sql.raw(spec.table)
  const missing = await sql`
    UPDATE ${table} AS s SET missing_since = now(), updated_at = now()
    FROM unnest(${args.missing.types}::text[], ${args.missing.ids}::bigint[]) AS k (osm_type, osm_id)
    WHERE s.city_id = ${args.cityId} AND s.osm_type = k.osm_type AND s.osm_id = k.osm_id
      AND s.missing_since IS NULL`.execute(db)
  const { rows } = await sql<{ new: number; changed: number }>`
    SELECT count(*) FILTER (WHERE first_seen_run = ${args.runId}::uuid)::int AS new,
           count(*) FILTER (WHERE first_seen_run <> ${args.runId}::uuid)::int AS changed
    FROM ${table}
    WHERE city_id = ${args.cityId} AND last_changed_run = ${args.runId}::uuid
      AND missing_since IS NULL`.execute(db)
  return { missing: Number(missing.numAffectedRows ?? 0), ...rows[0]! }
}
