import { randomUUID } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import type { DB } from '../../src/platform/db/schema.js'
import { claimedRunFrom } from '../../src/platform/jobs/runs.js'
import {
  type JobContext,
  type JobHandler,
  type JobOutcome,
  RunCancelledError,
  type RunSource,
} from '../../src/platform/jobs/types.js'
import { createLogger } from '../../src/platform/log.js'

export interface TestRunOptions {
  type?: 'osm' | 'helpers'
  citySlug?: string
  source?: RunSource
  /** Defaults to the city's own boundary relation. */
  boundaryRef?: string
  maxAttempts?: number
}

/** Inserts a real `ingestion_run` row, already claimed (RUNNING), and returns its id. */
export async function insertRunningRun(db: Kysely<DB>, opts: TestRunOptions = {}): Promise<string> {
  const city = await db
    .selectFrom('cities')
    .select(['id', 'osm_relation_id'])
    .where('slug', '=', opts.citySlug ?? 'sergiev-posad')
    .executeTakeFirstOrThrow()
  const type = opts.type ?? 'osm'
  const boundaryRef = opts.boundaryRef ?? String(city.osm_relation_id)
  const row = await db
    .insertInto('ingestion_run')
    .values({
      type,
      city_id: city.id,
      boundary_ref: boundaryRef,
      run_date: '2024-01-01',
      // Unique per run: the tests start several runs of one city on one date.
      idempotency_key: `${type}|${city.id}|${boundaryRef}|${randomUUID()}`,
      status: 'RUNNING',
      source: JSON.stringify(opts.source ?? { kind: 'overpass' }),
      trigger: 'cli',
      attempts: 1,
      max_attempts: opts.maxAttempts ?? 3,
      started_at: new Date(),
      heartbeat_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

export interface TestContextOptions {
  filePath?: string
  /** Asked after each batch; the default never yields. */
  shouldYield?: () => boolean
}

/** A `JobContext` for one delivery of the run, backed by its real row, as the worker would build it. */
export async function createJobContext(
  db: Kysely<DB>,
  runId: string,
  opts: TestContextOptions = {},
): Promise<JobContext> {
  const row = await db
    .selectFrom('ingestion_run as r')
    .innerJoin('cities as c', 'c.id', 'r.city_id')
    .select([
      'r.id',
      'r.type',
      'r.city_id',
      'c.slug',
      'r.boundary_ref',
      'r.run_date',
      'r.source',
      'r.trigger',
      'r.attempts',
      'r.max_attempts',
      'r.checkpoint',
    ])
    .where('r.id', '=', runId)
    .executeTakeFirstOrThrow()
  const run = claimedRunFrom(row, row.slug)
  const controller = new AbortController()
  const touch = async (progress?: object) => {
    const updated = await sql<{ cancel_requested: boolean }>`
      UPDATE ingestion_run SET heartbeat_at = now(), updated_at = now(),
        progress = COALESCE(${progress ? JSON.stringify(progress) : null}::jsonb, progress)
      WHERE id = ${runId} RETURNING cancel_requested`.execute(db)
    if (updated.rows[0]?.cancel_requested) {
      controller.abort(new RunCancelledError())
      throw new RunCancelledError()
    }
  }
  return {
    run,
    db,
    log: createLogger('silent'),
    signal: controller.signal,
    local: opts.filePath ? { filePath: opts.filePath } : {},
    heartbeat: () => touch(),
    progress: (p) => touch(p),
    async saveCheckpoint(checkpoint) {
      await sql`UPDATE ingestion_run SET checkpoint = ${JSON.stringify(checkpoint)}::jsonb WHERE id = ${runId}`.execute(
        db,
      )
    },
    shouldYield: opts.shouldYield ?? (() => false),
  }
}

export interface Delivered {
  outcome: Extract<JobOutcome, { status: 'succeeded' }>
  deliveries: number
}

/**
 * Delivers the run again and again, each time with the checkpoint the last delivery saved, as the
 * worker does after a `yielded`; marks the row SUCCEEDED at the end.
 */
export async function runToCompletion(
  db: Kysely<DB>,
  handler: JobHandler,
  runId: string,
  opts: TestContextOptions & { maxDeliveries?: number } = {},
): Promise<Delivered> {
  const max = opts.maxDeliveries ?? 10_000
  for (let deliveries = 1; deliveries <= max; deliveries++) {
    const outcome = await handler(await createJobContext(db, runId, opts))
    if (outcome.status === 'succeeded') {
      await db
        .updateTable('ingestion_run')
        .set({ status: 'SUCCEEDED', stats: JSON.stringify(outcome.stats), finished_at: new Date() })
        .where('id', '=', runId)
        .execute()
      return { outcome, deliveries }
    }
  }
  throw new Error(`run ${runId} did not finish in ${max} deliveries`)
}
