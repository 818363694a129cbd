import { isDeepStrictEqual } from 'node:util'
import { sql } from 'kysely'
import { dateInZone } from '../../platform/clock.js'
import { isForeignKeyViolation, isUniqueViolation } from '../../platform/db/errors.js'
import type { RunTrigger } from '../../platform/db/schema.js'
import type { AppDeps } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import type { RunSource } from '../../platform/jobs/types.js'
import { findCityBySlug } from '../cities/index.js'
import { findRun, findRunByKey } from './jobs.queries.js'
import type { RunRow } from './run-view.js'

export type JobDeps = Pick<AppDeps, 'database' | 'clock' | 'config' | 'log'> & {
  jobs: NonNullable<AppDeps['jobs']> | null
}

export interface EnqueueInput {
  type: 'osm' | 'helpers' | 'publish' | 'content_import' | 'tiles'
  city: string
  boundaryRef?: string
  date?: string
  source: RunSource
  trigger: RunTrigger
}

export function idempotencyKey(type: string, city: string, boundaryRef: string, date: string): string {
  return `${type}|${city}|${boundaryRef}|${date}`
}

/**
 * Creates the run for `{type}|{city}|{boundary_ref}|{date}` unless it exists. However often and
 * however concurrently it is asked, one key makes one run: the unique key decides, inside one
 * transaction that also hands a new run to the local queue. `jobs: null` records the run without
 * delivering it (the CLI runs it in its own process).
 *
 * Round trips of a new key: BEGIN, one statement that inserts the run or returns the run already
 * holding the key, the queue's own INSERT (pg-boss `send()` in the same transaction), COMMIT: the
 * same as the bare durable work. The city's identity comes from a per-database cache.
 */
export async function enqueueRun(
  deps: JobDeps,
  input: EnqueueInput,
): Promise<{ run: RunRow; deduplicated: boolean }> {
  const { db } = deps.database
  const city = await cityIdentity(deps.database, input.city)
  if (!city) throw new AppError('CITY_NOT_FOUND', `Город «${input.city}» не найден`)
  const boundaryRef = input.boundaryRef ?? String(city.osm_relation_id)
  const date = input.date ?? dateInZone(deps.clock.now(), city.timezone)
  const key = idempotencyKey(input.type, city.slug, boundaryRef, date)

  let found: (RunRow & { inserted: boolean }) | undefined
  try {
    found = await db.transaction().execute(async (trx) => {
      // Inserted, or the committed run that holds the key, in one statement. A run committed by a
      // concurrent request after this statement's snapshot is neither: it is read below.
      const { rows } = await sql<RunRow & { inserted: boolean }>`
        WITH ins AS (
          INSERT INTO ingestion_run
            (type, city_id, boundary_ref, run_date, idempotency_key, source, trigger, max_attempts)
          VALUES (${input.type}, ${city.id}, ${boundaryRef}, ${date}, ${key},
            ${JSON.stringify(input.source)}::jsonb, ${input.trigger}, ${deps.config.jobs.maxAttempts})
          ON CONFLICT (idempotency_key) DO NOTHING
          RETURNING *)
        SELECT ins.*, ${city.slug}::text AS city_slug, ${cursorOf('ins.created_at')} AS created_cursor,
          true AS inserted FROM ins
        UNION ALL
        SELECT r.*, ${city.slug}::text, ${cursorOf('r.created_at')}, false FROM ingestion_run r
        WHERE r.idempotency_key = ${key} AND NOT EXISTS (SELECT 1 FROM ins)`.execute(trx)
      const row = rows[0]
      if (row?.inserted && deps.jobs) await deps.jobs.dispatch(row.id, trx)
      return row
    })
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      // The cached city was removed from the database since.
      forgetCities(deps.database)
      throw new AppError('CITY_NOT_FOUND', `Город «${input.city}» не найден`)
    }
    // ON CONFLICT covers the key; a race on another unique index would surface here.
    if (!isUniqueViolation(err)) throw err
  }

  if (found) {
    const { inserted, ...run } = found
    if (inserted) {
      await handOver(deps, run.id)
      return { run, deduplicated: false }
    }
    return replay(deps, run, input.source)
  }
  // Lost the race to a concurrent request for the same key: its run is committed now.
  const existing = await findRunByKey(db, key)
  if (!existing) throw new Error(`run with key ${key} neither inserted nor found`)
  return replay(deps, existing, input.source)
}

/** The keyset cursor, microsecond-exact, as `jobs.queries.ts` lists runs. */
function cursorOf(column: 'ins.created_at' | 'r.created_at') {
  return sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)
}

type CityIdentity = { id: number; slug: string; osm_relation_id: number | string; timezone: string }
const CITY_TTL_MS = 60_000
const cityCache = new WeakMap<object, Map<string, { city: CityIdentity; at: number }>>()

/**
 * A city's identity (id, slug, relation, time zone), cached per database for a minute: these columns
 * are set by the seed migrations and never change while the service runs. Unknown slugs are not
 * cached, so a city added to the database is found at once.
 */
async function cityIdentity(database: JobDeps['database'], slug: string): Promise<CityIdentity | null> {
  let cache = cityCache.get(database)
  if (!cache) {
    cache = new Map()
    cityCache.set(database, cache)
  }
  const hit = cache.get(slug)
  if (hit && Date.now() - hit.at < CITY_TTL_MS) return hit.city
  const row = await findCityBySlug(database.db, slug)
  if (!row) return null
  const city = { id: row.id, slug: row.slug, osm_relation_id: row.osm_relation_id, timezone: row.timezone }
  cache.set(slug, { city, at: Date.now() })
  return city
}

function forgetCities(database: JobDeps['database']): void {
  cityCache.delete(database)
}

/**
 * The after-commit hand-over (QStash publish). The run is already recorded, so a publish that still
 * fails after its retries is a 503 naming the run: asking again re-publishes it.
 */
async function handOver(deps: JobDeps, runId: string): Promise<void> {
  try {
    await deps.jobs?.afterCommit(runId)
  } catch (err) {
    deps.log.warn({ run_id: runId, err: (err as Error).message }, 'run recorded but not handed to the queue')
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `Job ${runId} is recorded but the queue did not accept it; repeat the request to hand it over again`,
    )
  }
}

async function replay(
  deps: JobDeps,
  run: RunRow,
  source: RunSource,
): Promise<{ run: RunRow; deduplicated: boolean }> {
  if (!isDeepStrictEqual(run.source, source)) {
    throw new AppError(
      'IDEMPOTENCY_CONFLICT',
      `Job ${run.id} already exists for ${run.idempotency_key} with source ${JSON.stringify(run.source)}`,
    )
  }
  // A QStash publish that failed after commit would leave the run undelivered: asking again re-publishes
  // it (QStash drops the duplicate by its deduplication id if the first publish did go through).
  if (run.status === 'QUEUED' && deps.jobs?.transport === 'qstash') await handOver(deps, run.id)
  return { run, deduplicated: true }
}

/** The daily schedule: one `osm` and one `helpers` run per active city for today (idempotent per date). */
export async function enqueueDaily(deps: JobDeps, trigger: RunTrigger = 'cron') {
  const cities = await deps.database.db
    .selectFrom('cities')
    .select('slug')
    .where('active', '=', true)
    .execute()
  const results: Array<{ city: string; type: string; job_id: string; deduplicated: boolean }> = []
  for (const { slug } of cities) {
    for (const type of ['osm', 'helpers'] as const) {
      const { run, deduplicated } = await enqueueRun(deps, {
        type,
        city: slug,
        source: { kind: 'overpass' },
        trigger,
      })
      results.push({ city: slug, type, job_id: run.id, deduplicated })
    }
  }
  deps.log.info(
    { created: results.filter((r) => !r.deduplicated).length, total: results.length },
    'daily ingestion enqueued',
  )
  return results
}

/** A queued run ends CANCELLED now; a running one is flagged and its worker stops at its next batch. */
export async function cancelRun(deps: JobDeps, id: string): Promise<RunRow> {
  const { db } = deps.database
  await db
    .updateTable('ingestion_run')
    .set({ status: 'CANCELLED', finished_at: sql`now()`, updated_at: sql`now()`, cancel_requested: true })
    .where('id', '=', id)
    .where('status', '=', 'QUEUED')
    .execute()
  await db
    .updateTable('ingestion_run')
    .set({ cancel_requested: true, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('status', '=', 'RUNNING')
    .execute()
  const run = await findRun(db, id)
  if (!run) throw new AppError('JOB_NOT_FOUND', `Job ${id} not found`)
  if (run.status !== 'CANCELLED' && run.status !== 'RUNNING') {
    throw new AppError(
      'JOB_STATE_CONFLICT',
      `Job ${id} is ${run.status}: only QUEUED or RUNNING jobs can be cancelled`,
    )
  }
  return run
}

/** A FAILED or CANCELLED run becomes a new attempt of the same run, resuming from its checkpoint. */
export async function retryRun(deps: JobDeps, id: string): Promise<RunRow> {
  const { db } = deps.database
  const retried = await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('ingestion_run')
      .set({
        status: 'QUEUED',
        cancel_requested: false,
        finished_at: null,
        error_code: null,
        error_message: null,
        // What a failed attempt recorded (an import's refused files) is not this attempt's.
        stats: null,
        worker_id: null,
        max_attempts: sql`attempts + ${deps.config.jobs.maxAttempts}`,
        updated_at: sql`now()`,
      })
      .where('id', '=', id)
      .where('status', 'in', ['FAILED', 'CANCELLED'])
      .returning('id')
      .executeTakeFirst()
    if (row && deps.jobs) await deps.jobs.dispatch(row.id, trx)
    return row !== undefined
  })
  if (retried) await handOver(deps, id)
  const run = await findRun(db, id)
  if (!run) throw new AppError('JOB_NOT_FOUND', `Job ${id} not found`)
  if (!retried) {
    throw new AppError(
      'JOB_STATE_CONFLICT',
      `Job ${id} is ${run.status}: only FAILED or CANCELLED jobs can be retried`,
    )
  }
  return run
}
