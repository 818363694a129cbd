import { type Kysely, sql } from 'kysely'
import type { DB, RunTrigger } from '../../platform/db/schema.js'
import { roundCoordinate } from '../../platform/geo/lat-lon.js'
import { AppError } from '../../platform/http/errors.js'
import type { RunSource } from '../../platform/jobs/types.js'
import { findCityBySlug } from '../cities/index.js'
import { changeStateOf } from '../ingestion/index.js'
import { enqueueRun, type JobDeps } from '../jobs/index.js'
import type { GateName } from './gates.js'
import { unpublish } from './publishing.queries.js'

/**
 * A publish run reads staging, not an upstream. Every publish run records this same source, so the
 * admin route and the chain after an `osm` run share one idempotency key per city and date.
 */
const PUBLISH_SOURCE = { kind: 'staging' } as unknown as RunSource

export function enqueuePublish(deps: JobDeps, input: { city: string; date?: string; trigger: RunTrigger }) {
  return enqueueRun(deps, {
    type: 'publish',
    city: input.city,
    ...(input.date ? { date: input.date } : {}),
    source: PUBLISH_SOURCE,
    trigger: input.trigger,
  })
}

export interface StagedRow {
  id: number
  city: string
  osm_type: 'node' | 'way' | 'relation'
  osm_id: number
  category: string
  name_ru: string | null
  lat: number
  lon: number
  change_state: 'new' | 'changed' | 'unchanged' | 'missing'
  source_url: string
  gates_passed: boolean | null
  gate_results: Record<string, { passed: boolean; reason?: string; area?: 'polygon' | 'bbox' }> | null
  gates_evaluated_at: Date | null
  review_state: 'rejected' | null
  reviewed_by: string | null
  review_reason: string | null
  reviewed_at: Date | null
  poi_id: number | null
  poi_published: boolean | null
  poi_unpublished_reason: string | null
}

const STAGED_SELECT = sql`
  SELECT s.id, c.slug AS city, s.osm_type, s.osm_id, s.category, s.name_ru, s.lat, s.lon,
         ${changeStateOf('s', 'osm')} AS change_state,
         s.source_url, s.gates_passed, s.gate_results, s.gates_evaluated_at, s.review_state, s.reviewed_by,
         s.review_reason, s.reviewed_at, p.id AS poi_id, p.published AS poi_published,
         p.unpublished_reason AS poi_unpublished_reason
  FROM poi_ingestion_staging s JOIN cities c ON c.id = s.city_id LEFT JOIN poi p ON p.staging_id = s.id`

export async function listStaging(
  db: Kysely<DB>,
  q: { city: string; gate?: GateName; passed?: boolean; after?: number; limit: number },
): Promise<StagedRow[]> {
  const city = await findCityBySlug(db, q.city)
  if (!city) throw new AppError('CITY_NOT_FOUND', `City "${q.city}" not found`)
  const passedFilter =
    q.passed === undefined
      ? sql``
      : q.gate
        ? sql`AND (s.gate_results -> ${q.gate} ->> 'passed')::boolean = ${q.passed}`
        : sql`AND s.gates_passed = ${q.passed}`
  const { rows } = await sql<StagedRow>`
    ${STAGED_SELECT}
    WHERE s.city_id = ${city.id} AND s.id > ${q.after ?? 0} ${passedFilter}
    ORDER BY s.id LIMIT ${q.limit + 1}`.execute(db)
  return rows.map(normalizeIds)
}

async function findStaged(db: Kysely<DB>, id: number): Promise<StagedRow> {
  const { rows } = await sql<StagedRow>`${STAGED_SELECT} WHERE s.id = ${id}`.execute(db)
  if (!rows[0]) throw new AppError('STAGING_NOT_FOUND', `Staged POI ${id} not found`)
  return normalizeIds(rows[0])
}

/**
 * The editor's gate. A rejection takes effect at once: the published POI (if any) is unpublished in
 * the same transaction, with the editor's reason, and the next publish run keeps it out.
 */
export async function rejectStaged(db: Kysely<DB>, id: number, review: { reason: string; by: string }) {
  await db.transaction().execute(async (trx) => {
    await setReview(trx, id, 'rejected', review)
    await unpublish(trx, [{ stagingId: id, reason: `review: rejected by ${review.by}: ${review.reason}` }])
  })
  return findStaged(db, id)
}

/**
 * Withdraws a rejection and records who did it and why. Publication comes back with the next publish
 * run, which checks every other gate first: restoring never bypasses them.
 */
export async function restoreStaged(db: Kysely<DB>, id: number, review: { reason: string; by: string }) {
  await setReview(db, id, null, review)
  return findStaged(db, id)
}

/** Records an editor's decision on a staged row, with who and why. */
async function setReview(
  db: Kysely<DB>,
  id: number,
  state: 'rejected' | null,
  review: { reason: string; by: string },
): Promise<void> {
  const updated = await db
    .updateTable('poi_ingestion_staging')
    .set({
      review_state: state,
      reviewed_by: review.by,
      review_reason: review.reason,
      reviewed_at: sql`now()`,
    })
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst()
  if (!updated) throw new AppError('STAGING_NOT_FOUND', `Staged POI ${id} not found`)
}

function normalizeIds(r: StagedRow): StagedRow {
  return {
    ...r,
    id: Number(r.id),
    osm_id: Number(r.osm_id),
    poi_id: r.poi_id === null ? null : Number(r.poi_id),
  }
}

export function stagedView(r: StagedRow) {
  return {
    id: r.id,
    city: r.city,
    osm_type: r.osm_type,
    osm_id: r.osm_id,
    category: r.category,
    name_ru: r.name_ru,
    lat: roundCoordinate(r.lat),
    lon: roundCoordinate(r.lon),
    change_state: r.change_state,
    source_url: r.source_url,
    gates_passed: r.gates_passed,
    gate_results: r.gate_results,
    gates_evaluated_at: r.gates_evaluated_at?.toISOString() ?? null,
    review:
      r.reviewed_at && r.reviewed_by && r.review_reason
        ? {
            state: r.review_state === 'rejected' ? ('rejected' as const) : ('restored' as const),
            by: r.reviewed_by,
            reason: r.review_reason,
            at: r.reviewed_at.toISOString(),
          }
        : null,
    published_poi:
      r.poi_id === null
        ? null
        : { id: r.poi_id, published: r.poi_published ?? false, unpublished_reason: r.poi_unpublished_reason },
  }
}
