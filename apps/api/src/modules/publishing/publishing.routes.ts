import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'
import { enqueuedResponse } from '../jobs/index.js'
import { GATE_NAMES } from './gates.js'

const admin = [{ AdminToken: [] }]

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD' })
  // An impossible date (0000-00-00, 2030-13-45) is an invalid Date whose toISOString() throws: a 500.
  .refine(
    (s) =>
      !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: 'must be a real calendar date',
    },
  )

const CityParam = z.object({
  city: z
    .string()
    .regex(/^[a-z0-9-]{2,60}$/, { message: 'must be a city slug' })
    .openapi({ param: { name: 'city', in: 'path' }, example: 'sergiev-posad' }),
})

export const PublishEnqueueBodySchema = z
  .strictObject({
    date: isoDate.optional().openapi({ description: "Run date; default today in the city's time zone" }),
  })
  .openapi('PublishEnqueueRequest')

export const PublishEnqueueResultSchema = z
  .object({
    job_id: z.uuid(),
    status: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']),
    type: z.literal('publish'),
    city: z.string(),
    idempotency_key: z.string(),
    deduplicated: z.boolean(),
  })
  .openapi('PublishEnqueueResult')

export const enqueuePublishRoute = createRoute({
  method: 'post',
  path: '/v1/admin/publishing/{city}/enqueue',
  tags: ['publishing'],
  summary: 'Enqueue a publish run (staging → public POIs through the gates)',
  description:
    'Idempotent per `publish|{city}|{boundary_ref}|{date}`: the same key answers the same job ' +
    '(`deduplicated: true`, header `Idempotent-Replayed: true`). The body is optional.',
  security: admin,
  request: {
    params: CityParam,
    body: { required: false, content: { 'application/json': { schema: PublishEnqueueBodySchema } } },
  },
  responses: {
    202: enqueuedResponse(PublishEnqueueResultSchema),
    ...errorResponses(401, 403, 404, 413, 415, 422),
  },
})

const GateResultSchema = z
  .object({
    passed: z.boolean(),
    reason: z.string().optional(),
    area: z.enum(['polygon', 'bbox']).optional(),
  })
  .openapi('GateResult')

export const StagedPoiSchema = z
  .object({
    id: z.number().int(),
    city: z.string(),
    osm_type: z.enum(['node', 'way', 'relation']),
    osm_id: z.number().int(),
    category: z.string(),
    name_ru: z.string().nullable(),
    lat: z.number(),
    lon: z.number(),
    change_state: z.enum(['new', 'changed', 'unchanged', 'missing']).openapi({
      description:
        "Relative to the city's latest successful osm run: new/changed when that run (or a later one, " +
        'running or failed) wrote the row, unchanged when it did not need to, missing when the latest ' +
        'run that closed did not see the object',
    }),
    source_url: z.string(),
    gates_passed: z
      .boolean()
      .nullable()
      .openapi({ description: 'null until a publish run has evaluated the row' }),
    gate_results: z.record(z.string(), GateResultSchema).nullable(),
    gates_evaluated_at: z.string().nullable(),
    review: z
      .object({
        state: z.enum(['rejected', 'restored']).openapi({
          description:
            '`rejected`: an editor keeps the row unpublished; `restored`: an editor withdrew a rejection ' +
            '(the next publish run decides on the gates alone). `by`, `reason` and `at` are the last decision.',
        }),
        by: z.string(),
        reason: z.string(),
        at: z.string(),
      })
      .nullable()
      .openapi({ description: 'The last editor decision on the row; null when no editor has decided.' }),
    published_poi: z
      .object({ id: z.number().int(), published: z.boolean(), unpublished_reason: z.string().nullable() })
      .nullable(),
  })
  .openapi('StagedPoi')

const boolParam = z
  .enum(['true', 'false'], { message: 'must be true or false' })
  .transform((v) => v === 'true')

export const listStagingRoute = createRoute({
  method: 'get',
  path: '/v1/admin/staging',
  tags: ['publishing'],
  summary: 'Staged POIs with their gate results, in id order, cursor-paginated',
  security: admin,
  request: {
    query: z.object({
      city: z
        .string()
        .regex(/^[a-z0-9-]{2,60}$/, { message: 'must be a city slug' })
        .openapi({ example: 'sergiev-posad' }),
      gate: z.enum(GATE_NAMES).optional().openapi({ description: 'With `passed`: filter on this gate' }),
      passed: boolParam.optional().openapi({
        type: 'string',
        enum: ['true', 'false'],
        description: 'Rows that passed (true) or failed (false) `gate`, or all gates when no gate is given',
      }),
      cursor: z.string().max(200).optional(),
      limit: z.coerce
        .number({ message: 'must be a number' })
        .int()
        .min(1)
        .max(200)
        .default(50)
        .openapi({ type: 'integer' }),
    }),
  },
  responses: {
    200: {
      description: 'One page; `next_cursor` is null on the last page.',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(StagedPoiSchema), next_cursor: z.string().nullable() })
            .openapi('StagedPoiList'),
        },
      },
    },
    ...errorResponses(401, 403, 404),
  },
})

const StagingIdParam = z.object({
  id: z.coerce
    .number({ message: 'must be a number' })
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, type: 'integer' }),
})

export const ReviewBodySchema = z
  .strictObject({
    reason: z.string().trim().min(3).max(1000).openapi({ example: 'Дубликат объекта' }),
    by: z.string().trim().min(1).max(200).optional().openapi({
      example: 'editor@example.org',
      description:
        'Who decides, with the shared ADMIN_API_TOKEN (default `admin`). A named operator (ADMIN_TOKENS) always decides under its own name.',
    }),
  })
  .openapi('ReviewRequest')

const reviewRoute = (action: 'reject' | 'restore') =>
  createRoute({
    method: 'post',
    path: `/v1/admin/staging/{id}/${action}`,
    tags: ['publishing'],
    summary:
      action === 'reject'
        ? "Reject a staged POI (editor's gate): it leaves publication at once"
        : 'Withdraw a rejection: the POI is published again by the next publish run if its gates pass',
    security: admin,
    request: {
      params: StagingIdParam,
      body: { required: true, content: { 'application/json': { schema: ReviewBodySchema } } },
    },
    responses: {
      200: {
        description: 'The staged POI after the change.',
        content: { 'application/json': { schema: StagedPoiSchema } },
      },
      ...errorResponses(401, 403, 404, 413, 415),
    },
  })

export const rejectRoute = reviewRoute('reject')
export const restoreRoute = reviewRoute('restore')
