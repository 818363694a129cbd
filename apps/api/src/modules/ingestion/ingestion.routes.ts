import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'
import { enqueuedResponse } from '../jobs/index.js'

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD' })
  .refine(
    (s) =>
      !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: 'must be a real calendar date',
    },
  )

export const RunSourceSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('overpass') }),
    z.strictObject({
      kind: z.literal('extract'),
      url: z
        .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
        .max(2000)
        .openapi({ example: 'https://example.org/extracts/central-fed-district-latest.osm.pbf' }),
    }),
  ])
  .openapi('RunSource', {
    description: 'Overpass (default) or an .osm.pbf / .osm / .osm.gz extract over HTTP(S).',
  })

export const EnqueueBodySchema = z
  .strictObject({
    city: z
      .string()
      .regex(/^[a-z0-9-]{2,60}$/, { message: 'must be a city slug' })
      .openapi({ example: 'moscow' }),
    boundary_ref: z
      .string()
      .regex(/^[1-9][0-9]{0,11}$/, { message: 'must be an OSM relation id' })
      .optional()
      .openapi({ description: "OSM relation id of the boundary; default the city's", example: '102269' }),
    date: isoDate.optional().openapi({ description: "Run date; default today in the city's time zone" }),
    source: RunSourceSchema.optional(),
  })
  .openapi('EnqueueRequest')

export const EnqueueResultSchema = z
  .object({
    job_id: z.uuid(),
    status: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']),
    type: z.enum(['osm', 'helpers', 'publish']),
    city: z.string(),
    idempotency_key: z.string(),
    deduplicated: z.boolean(),
  })
  .openapi('EnqueueResult')

const enqueueRoute = (type: 'osm' | 'helpers') =>
  createRoute({
    method: 'post',
    path: `/v1/admin/ingestion/${type}/enqueue`,
    tags: ['ingestion'],
    summary: `Enqueue an ${type === 'osm' ? 'OSM POI' : 'OSM helper places'} ingestion run`,
    description:
      'Idempotent per `{type}|{city}|{boundary_ref}|{date}`: the same key always answers the same job ' +
      '(`deduplicated: true`, header `Idempotent-Replayed: true`); the same key with another source is 422. ' +
      'Answers at once; the work runs later (see `Location`).',
    security: [{ AdminToken: [] }],
    request: {
      body: { required: true, content: { 'application/json': { schema: EnqueueBodySchema } } },
    },
    responses: {
      202: enqueuedResponse(EnqueueResultSchema),
      ...errorResponses(401, 403, 404, 413, 415, 422),
    },
  })

export const enqueueOsmRoute = enqueueRoute('osm')
export const enqueueHelpersRoute = enqueueRoute('helpers')
