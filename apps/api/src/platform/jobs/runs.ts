import { type Kysely, type Selectable, sql } from 'kysely'
import type { DB, IngestionRunTable } from '../db/schema.js'
import type { ClaimedRun, RunProgress, RunSource } from './types.js'

/**
 * The run state machine, as single guarded UPDATEs: each transition names the states it may leave,
 * so two workers, a duplicate delivery or an operator racing each other cannot both win.
 *
 *   QUEUED ─claim→ RUNNING ─→ SUCCEEDED | FAILED | CANCELLED
 *   RUNNING ─(transient error, attempts left | slice yielded | lease expired)→ QUEUED
 *   QUEUED ─cancel→ CANCELLED;  FAILED | CANCELLED ─retry→ QUEUED
 */

/** Claims a run for `workerId`: a QUEUED run, or a RUNNING one whose lease ran out (its worker died). */
export async function claimRun(
  db: Kysely<DB>,
  runId: string,
  workerId: string,
  leaseSeconds: number,
): Promise<ClaimedRun | null> {
  const row = await db
    .updateTable('ingestion_run')
    .set({
      status: 'RUNNING',
      attempts: sql`attempts + 1`,
      worker_id: workerId,
      heartbeat_at: sql`now()`,
      started_at: sql`coalesce(started_at, now())`,
      updated_at: sql`now()`,
    })
    .where('id', '=', runId)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'QUEUED'),
        eb.and([
          eb('status', '=', 'RUNNING'),
          eb('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${leaseSeconds})`),
        ]),
      ]),
    )
    .where('cancel_requested', '=', false)
    .returningAll()
    .executeTakeFirst()
  if (!row) return null
  if (row.city_id === null) return claimedRunFrom(row, null)
  const city = await db
    .selectFrom('cities')
    .select('slug')
    .where('id', '=', row.city_id)
    .executeTakeFirstOrThrow()
  return claimedRunFrom(row, city.slug)
}

type RunRowFields = Pick<
  Selectable<IngestionRunTable>,
  | 'id'
  | 'type'
  | 'city_id'
  | 'boundary_ref'
  | 'run_date'
  | 'source'
  | 'trigger'
  | 'attempts'
  | 'max_attempts'
  | 'checkpoint'
>

/** A run row as its handler sees it. */
export function claimedRunFrom(row: RunRowFields, citySlug: string | null): ClaimedRun {
  return {
    id: row.id,
    type: row.type,
    cityId: row.city_id,
    citySlug,
    boundaryRef: row.boundary_ref,
    runDate: row.run_date,
    source: row.source as RunSource,
    trigger: row.trigger,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    checkpoint: row.checkpoint,
  }
}

/** Renews the lease. Returns what the worker must know: is the run still ours, and was it cancelled? */
export async function touchRun(
  db: Kysely<DB>,
  runId: string,
  workerId: string,
  progress?: RunProgress,
): Promise<{ owned: boolean; cancelRequested: boolean }> {
  const row = await db
    .updateTable('ingestion_run')
    .set({
      heartbeat_at: sql`now()`,
      updated_at: sql`now()`,
      ...(progress ? { progress: JSON.stringify(progress) } : {}),
    })
    .where('id', '=', runId)
    .where('status', '=', 'RUNNING')
    .where('worker_id', '=', workerId)
    .returning('cancel_requested')
    .executeTakeFirst()
  return { owned: row !== undefined, cancelRequested: row?.cancel_requested ?? false }
}

export async function saveCheckpoint(db: Kysely<DB>, runId: string, workerId: string, checkpoint: unknown) {
  const res = await db
    .updateTable('ingestion_run')
    .set({ checkpoint: JSON.stringify(checkpoint), heartbeat_at: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', runId)
    .where('status', '=', 'RUNNING')
    .where('worker_id', '=', workerId)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

type Finish =
  | { status: 'SUCCEEDED'; stats: Record<string, unknown> }
  | { status: 'FAILED'; code: string; message: string; stats?: Record<string, unknown> }
  | { status: 'CANCELLED' }

/** Ends a run this worker holds. False when it no longer holds it (lease lost): then nothing changes. */
export async function finishRun(
  db: Kysely<DB>,
  runId: string,
  workerId: string,
  finish: Finish,
): Promise<boolean> {
  const res = await db
    .updateTable('ingestion_run')
    .set({
      status: finish.status,
      finished_at: sql`now()`,
      updated_at: sql`now()`,
      worker_id: null,
      ...(finish.status === 'SUCCEEDED'
        ? { stats: JSON.stringify(finish.stats), error_code: null, error_message: null, checkpoint: null }
        : {}),
      ...(finish.status === 'FAILED'
        ? {
            error_code: finish.code,
            error_message: finish.message.slice(0, 2000),
            ...(finish.stats ? { stats: JSON.stringify(finish.stats) } : {}),
          }
        : {}),
    })
    .where('id', '=', runId)
    .where('status', '=', 'RUNNING')
    .where('worker_id', '=', workerId)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/**
 * Hands a running run back to the queue: after a transient failure (the error is kept for the
 * operator), when a slice yielded (`refundAttempt`: a slice is not a failed attempt) or on shutdown.
 */
export async function requeueRun(
  db: Kysely<DB>,
  runId: string,
  workerId: string,
  opts: { error?: { code: string; message: string }; refundAttempt?: boolean },
): Promise<boolean> {
  const res = await db
    .updateTable('ingestion_run')
    .set({
      status: 'QUEUED',
      worker_id: null,
      updated_at: sql`now()`,
      ...(opts.refundAttempt ? { attempts: sql`greatest(attempts - 1, 0)` } : {}),
      ...(opts.error
        ? { error_code: opts.error.code, error_message: opts.error.message.slice(0, 2000) }
        : {}),
    })
    .where('id', '=', runId)
    .where('status', '=', 'RUNNING')
    .where('worker_id', '=', workerId)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/** Runs whose worker stopped heartbeating: back to QUEUED (attempts left) or FAILED. Returns the re-queued ids. */
export async function reapExpiredRuns(db: Kysely<DB>, leaseSeconds: number): Promise<string[]> {
  const expired = sql<boolean>`heartbeat_at < now() - make_interval(secs => ${leaseSeconds})`
  await db
    .updateTable('ingestion_run')
    .set({ status: 'CANCELLED', finished_at: sql`now()`, updated_at: sql`now()`, worker_id: null })
    .where('status', '=', 'RUNNING')
    .where(expired)
    .where('cancel_requested', '=', true)
    .execute()
  await db
    .updateTable('ingestion_run')
    .set({
      status: 'FAILED',
      finished_at: sql`now()`,
      updated_at: sql`now()`,
      worker_id: null,
      error_code: 'WORKER_LOST',
      error_message: 'the worker stopped heartbeating and no attempts are left',
    })
    .where('status', '=', 'RUNNING')
    .where(expired)
    .where(sql<boolean>`attempts >= max_attempts`)
    .execute()
  const requeued = await db
    .updateTable('ingestion_run')
    .set({ status: 'QUEUED', worker_id: null, updated_at: sql`now()` })
    .where('status', '=', 'RUNNING')
    .where(expired)
    .returning('id')
    .execute()
  return requeued.map((r) => r.id)
}
