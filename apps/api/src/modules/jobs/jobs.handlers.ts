import type { RouteHandler } from '@hono/zod-openapi'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { reapExpiredRuns } from '../../platform/jobs/runs.js'
import { executeRun } from '../../platform/jobs/worker.js'
import { findRun, listRuns } from './jobs.queries.js'
import type {
  callbackRoute,
  cancelJobRoute,
  cronGetRoute,
  getJobRoute,
  listJobsRoute,
  reapGetRoute,
  retryJobRoute,
} from './jobs.routes.js'
import { cancelRun, enqueueDaily, type JobDeps, retryRun } from './jobs.service.js'
import { runView } from './run-view.js'

function jobDeps(c: { var: AppEnv['Variables'] }): JobDeps {
  const { deps } = c.var
  return { ...deps, jobs: deps.jobs ?? null }
}

export const getJob: RouteHandler<typeof getJobRoute, AppEnv> = async (c) => {
  const run = await findRun(c.var.deps.database.db, c.req.valid('param').job_id)
  if (!run) throw new AppError('JOB_NOT_FOUND', 'Задача не найдена')
  return c.json(runView(run), 200)
}

export const listJobs: RouteHandler<typeof listJobsRoute, AppEnv> = async (c) => {
  const q = c.req.valid('query')
  const rows = await listRuns(c.var.deps.database.db, {
    ...(q.status ? { status: q.status } : {}),
    ...(q.type ? { type: q.type } : {}),
    ...(q.city ? { city: q.city } : {}),
    ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
    limit: q.limit + 1,
  })
  const page = rows.slice(0, q.limit)
  const last = page.at(-1)
  const next = rows.length > q.limit && last ? encodeCursor(last.created_cursor, last.id) : null
  return c.json({ items: page.map(runView), next_cursor: next }, 200)
}

export const cancelJob: RouteHandler<typeof cancelJobRoute, AppEnv> = async (c) => {
  const run = await cancelRun(jobDeps(c), c.req.valid('param').job_id)
  return c.json(runView(run), 200)
}

export const retryJob: RouteHandler<typeof retryJobRoute, AppEnv> = async (c) => {
  const run = await retryRun(jobDeps(c), c.req.valid('param').job_id)
  return c.json(runView(run), 202)
}

/** One QStash delivery: the answer tells QStash whether to retry (5xx), give up (489) or stop (200). */
export const jobCallback: RouteHandler<typeof callbackRoute, AppEnv> = async (c) => {
  const { run_id } = c.req.valid('json')
  const { deps } = c.var
  if (!deps.jobHandlers) throw new AppError('SERVICE_UNAVAILABLE', 'This process does not execute jobs')
  const result = await executeRun(run_id, {
    db: deps.database.db,
    log: c.var.log,
    handlers: deps.jobHandlers,
    leaseSeconds: deps.config.jobs.leaseSeconds,
    sliceMs: deps.config.jobs.sliceSeconds * 1000,
  })
  switch (result.outcome) {
    case 'yielded':
      // The next slice is a new delivery; the run waits QUEUED with its checkpoint.
      await deps.jobs?.redeliver(run_id)
      return c.json({ job_id: run_id, outcome: 'yielded', status: 'QUEUED' as const }, 200)
    case 'retry':
      throw new AppError('SERVICE_UNAVAILABLE', `transient failure (${result.code}); QStash will retry`)
    case 'failed':
      // 489 + Upstash-NonRetryable-Error is QStash's "stop retrying" answer; Hono's typings stop at 5xx.
      return c.json({ job_id: run_id, outcome: 'failed', status: 'FAILED' as const }, 489 as 200, {
        'Upstash-NonRetryable-Error': 'true',
      })
    case 'succeeded':
      return c.json({ job_id: run_id, outcome: 'succeeded', status: 'SUCCEEDED' as const }, 200)
    case 'cancelled':
      return c.json({ job_id: run_id, outcome: 'cancelled', status: 'CANCELLED' as const }, 200)
    default:
      // not claimed (finished, or another worker holds it) or lease lost: nothing to do here.
      return c.json({ job_id: run_id, outcome: result.outcome }, 200)
  }
}

export const cronIngestion: RouteHandler<typeof cronGetRoute, AppEnv> = async (c) => {
  const enqueued = await enqueueDaily(jobDeps(c))
  return c.json({ enqueued }, 200)
}

/** Serverless counterpart of the local workers' reaper: expired leases back to the queue, delivered again. */
export const cronReap: RouteHandler<typeof reapGetRoute, AppEnv> = async (c) => {
  const { deps } = c.var
  const requeued = await reapExpiredRuns(deps.database.db, deps.config.jobs.leaseSeconds)
  for (const id of requeued) {
    c.var.log.warn({ run_id: id }, 'run lease expired: handed back to the queue')
    await deps.jobs?.redeliver(id)
  }
  return c.json({ requeued }, 200)
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url')
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ]
    if (
      typeof createdAt === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(createdAt) &&
      typeof id === 'string' &&
      /^[0-9a-f-]{36}$/.test(id)
    ) {
      return { createdAt, id }
    }
  } catch {
    // fall through
  }
  throw new AppError('VALIDATION_FAILED', 'Некорректный курсор', [
    { path: 'query.cursor', message: 'invalid cursor' },
  ])
}
