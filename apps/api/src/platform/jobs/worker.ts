import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Kysely } from 'kysely'
import { isDatabaseUnavailable } from '../db/errors.js'
import type { DB } from '../db/schema.js'
import type { Logger } from '../log.js'
import { claimRun, finishRun, requeueRun, saveCheckpoint, touchRun } from './runs.js'
import {
  type JobContext,
  type JobHandlers,
  PermanentJobError,
  RunCancelledError,
  TransientJobError,
} from './types.js'

/**
 * What one delivery of a run came to. The transport turns it into its own answer: acknowledge,
 * retry later, or give up for good.
 */
export type ExecuteResult =
  | { outcome: 'not_claimed' }
  | { outcome: 'succeeded'; stats: Record<string, unknown> }
  | { outcome: 'failed'; code: string; message: string }
  | { outcome: 'cancelled' }
  | { outcome: 'retry'; code: string; message: string }
  | { outcome: 'yielded' }
  | { outcome: 'lost' }

export interface WorkerOptions {
  db: Kysely<DB>
  log: Logger
  handlers: JobHandlers
  leaseSeconds: number
  /** Stop a slice after this many ms (serverless); undefined: run to the end. */
  sliceMs?: number
  /** Aborted on shutdown: the run is handed back to the queue, not failed. */
  shutdown?: AbortSignal
  local?: JobContext['local']
  workerId?: string
}

export const WORKER_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`

/**
 * Claims and runs one run. Safe to call for any delivery, duplicated or late: a run that is not
 * claimable (finished, or held by a live worker) is acknowledged and left alone.
 */
export async function executeRun(runId: string, opts: WorkerOptions): Promise<ExecuteResult> {
  const workerId = opts.workerId ?? WORKER_ID
  const { db } = opts
  const run = await claimRun(db, runId, workerId, opts.leaseSeconds)
  if (!run) return { outcome: 'not_claimed' }
  const log = opts.log.child({
    run_id: run.id,
    job_type: run.type,
    city: run.citySlug,
    attempt: run.attempts,
  })
  log.info('run started')

  const abort = new AbortController()
  const onShutdown = () => abort.abort(new Error('shutdown'))
  opts.shutdown?.addEventListener('abort', onShutdown, { once: true })
  let cancelled = false
  let lost = false
  const startedAt = Date.now()

  const check = (state: { owned: boolean; cancelRequested: boolean }) => {
    if (!state.owned) {
      lost = true
      abort.abort(new Error('lease lost'))
      throw new RunCancelledError()
    }
    if (state.cancelRequested) {
      cancelled = true
      abort.abort(new RunCancelledError())
      throw new RunCancelledError()
    }
    if (opts.shutdown?.aborted) throw new RunCancelledError()
  }

  // Renews the lease while a long step (a download, a big transaction) gives no progress to report.
  const beat = setInterval(
    () => {
      touchRun(db, run.id, workerId)
        .then((s) => {
          if (!s.owned) lost = true
          if (s.cancelRequested) cancelled = true
          if (!s.owned || s.cancelRequested) abort.abort(new RunCancelledError())
        })
        .catch((err) => log.warn({ err }, 'heartbeat failed'))
    },
    Math.max(1000, (opts.leaseSeconds * 1000) / 3),
  )
  beat.unref()

  const ctx: JobContext = {
    run,
    db,
    log,
    signal: abort.signal,
    local: opts.local ?? {},
    heartbeat: async () => check(await touchRun(db, run.id, workerId)),
    progress: async (progress) => check(await touchRun(db, run.id, workerId, progress)),
    saveCheckpoint: async (checkpoint) => {
      if (!(await saveCheckpoint(db, run.id, workerId, checkpoint)))
        check({ owned: false, cancelRequested: false })
    },
    shouldYield: () => opts.sliceMs !== undefined && Date.now() - startedAt >= opts.sliceMs,
  }

  const settleFailure = async (err: unknown): Promise<ExecuteResult> => {
    if (lost) {
      log.warn('run lease lost to another worker; leaving it')
      return { outcome: 'lost' }
    }
    if (cancelled || (err instanceof RunCancelledError && !opts.shutdown?.aborted)) {
      await finishRun(db, run.id, workerId, { status: 'CANCELLED' })
      log.info('run cancelled')
      return { outcome: 'cancelled' }
    }
    if (opts.shutdown?.aborted) {
      await requeueRun(db, run.id, workerId, { refundAttempt: true }).catch(() => {})
      log.info('run handed back on shutdown')
      return { outcome: 'retry', code: 'SHUTDOWN', message: 'worker shutting down' }
    }
    const e = err as Error
    if (err instanceof PermanentJobError) {
      await finishRun(db, run.id, workerId, {
        status: 'FAILED',
        code: err.code,
        message: err.message,
        ...(err.stats ? { stats: err.stats } : {}),
      })
      log.warn({ code: err.code, err: e.message }, 'run failed permanently')
      return { outcome: 'failed', code: err.code, message: err.message }
    }
    const code =
      err instanceof TransientJobError
        ? err.code
        : isDatabaseUnavailable(err)
          ? 'DATABASE_UNAVAILABLE'
          : 'INTERNAL'
    const message = e?.message ?? String(err)
    if (run.attempts >= run.maxAttempts) {
      await finishRun(db, run.id, workerId, { status: 'FAILED', code, message })
      log.warn({ code, err: message }, 'run failed after its last attempt')
      return { outcome: 'failed', code, message }
    }
    const requeued = await requeueRun(db, run.id, workerId, { error: { code, message } }).catch((reqErr) => {
      // The database itself is away: the lease will expire and the reaper hands the run back.
      log.warn({ err: reqErr }, 'could not hand the run back; its lease will expire')
      return false
    })
    log.warn({ code, err: message, requeued }, 'run failed; it will be retried')
    if (code === 'INTERNAL') log.error({ err }, 'unexpected error in run')
    return { outcome: 'retry', code, message }
  }

  try {
    const handler = opts.handlers[run.type]
    if (!handler) throw new PermanentJobError('UNKNOWN_JOB_TYPE', `no handler for job type "${run.type}"`)
    const outcome = await handler(ctx)
    if (outcome.status === 'yielded') {
      await requeueRun(db, run.id, workerId, { refundAttempt: true })
      log.info('run yielded at its slice deadline; it continues from its checkpoint')
      return { outcome: 'yielded' }
    }
    if (!(await finishRun(db, run.id, workerId, { status: 'SUCCEEDED', stats: outcome.stats }))) {
      return { outcome: 'lost' }
    }
    log.info({ stats: outcome.stats }, 'run succeeded')
    return { outcome: 'succeeded', stats: outcome.stats }
  } catch (err) {
    return await settleFailure(err)
  } finally {
    clearInterval(beat)
    opts.shutdown?.removeEventListener('abort', onShutdown)
  }
}
