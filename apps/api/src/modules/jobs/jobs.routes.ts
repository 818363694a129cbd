import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'

export const RUN_TYPES = [
  'osm',
  'helpers',
  'publish',
  'content_import',
  'tiles',
  'account_purge',
  'purchase_claim',
  'store_event',
] as const
export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const

export const JobSchema = z
  .object({
    id: z.uuid(),
    type: z.enum(RUN_TYPES),
    status: z.enum(RUN_STATUSES),
    city: z.string().nullable().openapi({
      example: 'moscow',
      description: 'Null for jobs without a city (account_purge, purchase_claim, store_event).',
    }),
    boundary_ref: z.string().openapi({ example: '102269' }),
    run_date: z.string().openapi({ example: '2026-11-28' }),
    idempotency_key: z.string().openapi({ example: 'osm|moscow|102269|2026-11-28' }),
    source: z.record(z.string(), z.unknown()).openapi({ example: { kind: 'overpass' } }),
    trigger: z.enum(['admin', 'cron', 'cli', 'chain', 'start']),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    cancel_requested: z.boolean(),
    progress: z.record(z.string(), z.unknown()).nullable(),
    stats: z.record(z.string(), z.unknown()).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    heartbeat_at: z.string().nullable(),
  })
  .openapi('Job')

const JobIdParam = z.object({
  job_id: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name: 'job_id', in: 'path' } }),
})

const admin = [{ AdminToken: [] }]

export const getJobRoute = createRoute({
  method: 'get',
  path: '/v1/jobs/{job_id}',
  tags: ['jobs'],
  summary: 'How a job (ingestion run) went',
  security: admin,
  request: { params: JobIdParam },
  responses: {
    200: { description: 'The job.', content: { 'application/json': { schema: JobSchema } } },
    ...errorResponses(401, 403, 404),
  },
})

export const listJobsRoute = createRoute({
  method: 'get',
  path: '/v1/admin/jobs',
  tags: ['jobs'],
  summary: 'Jobs, newest first, cursor-paginated',
  security: admin,
  request: {
    query: z.object({
      status: z.enum(RUN_STATUSES).optional(),
      type: z.enum(RUN_TYPES).optional(),
      city: z
        .string()
        .regex(/^[a-z0-9-]{2,60}$/)
        .optional(),
      cursor: z.string().max(200).optional().openapi({ description: 'next_cursor of the previous page' }),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: {
    200: {
      description: 'A page of jobs.',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(JobSchema), next_cursor: z.string().nullable() })
            .openapi('JobPage'),
        },
      },
    },
    ...errorResponses(401, 403),
  },
})

export const cancelJobRoute = createRoute({
  method: 'post',
  path: '/v1/admin/jobs/{job_id}/cancel',
  tags: ['jobs'],
  summary: 'Cancel a queued or running job',
  description: 'A queued job ends CANCELLED at once; a running one is flagged and stops at its next batch.',
  security: admin,
  request: { params: JobIdParam },
  responses: {
    200: {
      description: 'The job after the request.',
      content: { 'application/json': { schema: JobSchema } },
    },
    ...errorResponses(401, 403, 404, 409),
  },
})

export const retryJobRoute = createRoute({
  method: 'post',
  path: '/v1/admin/jobs/{job_id}/retry',
  tags: ['jobs'],
  summary: 'Run a failed or cancelled job again',
  description: 'The same run gets a new attempt and continues from its last checkpoint.',
  security: admin,
  request: { params: JobIdParam },
  responses: {
    202: { description: 'The job, queued again.', content: { 'application/json': { schema: JobSchema } } },
    ...errorResponses(401, 403, 404, 409),
  },
})

const CallbackResult = z
  .object({ job_id: z.uuid(), outcome: z.string(), status: z.enum(RUN_STATUSES).optional() })
  .openapi('CallbackResult')

export const callbackRoute = createRoute({
  method: 'post',
  path: '/v1/jobs/callback',
  tags: ['jobs'],
  summary: 'QStash delivery of a job (signed)',
  description:
    'Verifies `Upstash-Signature` over the raw body and this URL, then works the job. 200: done or nothing ' +
    'to do; 503: transient failure, QStash retries; 489 with `Upstash-NonRetryable-Error: true`: failed for good.',
  security: [{ QStashSignature: [] }],
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ run_id: z.uuid() }).openapi('CallbackBody') } },
    },
  },
  responses: {
    200: { description: 'Delivery handled.', content: { 'application/json': { schema: CallbackResult } } },
    489: {
      description: 'The job failed permanently.',
      content: { 'application/json': { schema: CallbackResult } },
    },
    ...errorResponses(401, 503),
  },
})

const CronResult = z
  .object({
    enqueued: z.array(
      z.object({ city: z.string(), type: z.string(), job_id: z.uuid(), deduplicated: z.boolean() }),
    ),
  })
  .openapi('CronResult')

const cronRoute = (method: 'get' | 'post') =>
  createRoute({
    method,
    path: '/v1/cron/ingestion',
    tags: ['jobs'],
    summary: 'Daily ingestion for every active city (QStash schedule or Vercel Cron)',
    description:
      'Accepted with a valid QStash signature or `Authorization: Bearer $CRON_SECRET`. Idempotent per date.',
    security: [{ QStashSignature: [] }, { CronSecret: [] }],
    responses: {
      200: {
        description: 'Runs enqueued (or already there).',
        content: { 'application/json': { schema: CronResult } },
      },
      ...errorResponses(401),
    },
  })

export const cronPostRoute = cronRoute('post')
export const cronGetRoute = cronRoute('get')

const ReapResult = z
  .object({ requeued: z.array(z.uuid()).openapi({ description: 'Runs handed back to the queue.' }) })
  .openapi('ReapResult')

const reapRoute = (method: 'get' | 'post') =>
  createRoute({
    method,
    path: '/v1/cron/reap',
    tags: ['jobs'],
    summary: 'Hand runs whose worker died back to the queue (serverless schedule, every few minutes)',
    description:
      'A run RUNNING without a heartbeat for JOB_LEASE_SECONDS goes back to QUEUED and is delivered again ' +
      '(FAILED with WORKER_LOST when no attempts are left). The local transport does this in every worker; ' +
      'on QStash a schedule calls this route. Same authentication as the ingestion cron.',
    security: [{ QStashSignature: [] }, { CronSecret: [] }],
    responses: {
      200: { description: 'Runs re-queued.', content: { 'application/json': { schema: ReapResult } } },
      ...errorResponses(401),
    },
  })

export const reapPostRoute = reapRoute('post')
export const reapGetRoute = reapRoute('get')

/** The 202 answer of every enqueue route: the job, where to follow it, and whether it already existed. */
export function enqueuedResponse<S extends z.ZodType>(schema: S) {
  return {
    description: 'The job (new or existing).',
    headers: z.object({
      Location: z.string().openapi({ description: '/v1/jobs/{job_id}' }),
      'Idempotent-Replayed': z
        .string()
        .optional()
        .openapi({ description: '"true" when the job already existed' }),
    }),
    content: { 'application/json': { schema } },
  }
}
