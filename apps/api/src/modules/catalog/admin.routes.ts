import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'
import { enqueuedResponse } from '../jobs/index.js'
import { CONTENT_LICENSES, TRIGGER_RADIUS_M } from './gates.js'

const admin = [{ AdminToken: [] }]
const sha = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a sha256 (hex)' })
const slug = z.string().regex(/^[a-z0-9-]{2,80}$/, { message: 'must be a slug' })
const by = z.string().trim().min(1).max(200).optional().openapi({
  example: 'editor@example.org',
  description:
    'Who acts, with the shared ADMIN_API_TOKEN (default `admin`). A named operator (ADMIN_TOKENS) always acts under its own name.',
})
const text = (max: number) => z.string().max(max)
const status = z.enum(['draft', 'published', 'unpublished'])

const IdParam = z.object({
  id: z.coerce
    .number({ message: 'must be a number' })
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name: 'id', in: 'path' }, type: 'integer' }),
})
const CitySlugParams = z.object({
  city: slug.openapi({ param: { name: 'city', in: 'path' }, example: 'sergiev-posad' }),
  slug: slug.openapi({ param: { name: 'slug', in: 'path' }, example: 'lavra' }),
})
const ItemSlugParam = z.object({ slug: slug.openapi({ param: { name: 'slug', in: 'path' } }) })

export const TourDraftSchema = z
  .strictObject({
    by,
    title_ru: text(200),
    summary_ru: text(1000),
    description_ru: text(20_000),
    cover: sha.nullable().optional(),
    duration_min: z.number().int().min(1).max(1440),
    stops: z
      .array(
        z.strictObject({
          poi_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
          lat: z.number().min(-90).max(90).optional(),
          lon: z.number().min(-180).max(180).optional(),
          title_ru: text(200).optional(),
          narration_ru: text(50_000),
          trigger_radius_m: z
            .number()
            .int()
            .openapi({
              description: `Geofence radius; publishing needs ${TRIGGER_RADIUS_M.min}–${TRIGGER_RADIUS_M.max}`,
            }),
          image: sha.nullable().optional(),
          audio: sha.nullable().optional(),
        }),
      )
      .max(100),
  })
  .openapi('TourDraftRequest')

const SavedSchema = z
  .object({ id: z.number().int(), outcome: z.enum(['created', 'changed', 'unchanged']) })
  .openapi('ContentSaved')

const AdminTourSchema = z
  .object({
    id: z.number().int(),
    city: z.string(),
    slug: z.string(),
    status,
    draft: z.object({ number: z.number().int(), title_ru: z.string() }).nullable(),
    published: z
      .object({ number: z.number().int(), title_ru: z.string(), content_hash: z.string() })
      .nullable(),
    unpublished_reason: z.string().nullable(),
    review: z
      .object({ reason: z.string(), flagged_at: z.string() })
      .nullable()
      .openapi({ description: 'Set when a POI the tour stops at left publication' }),
    updated_at: z.string(),
  })
  .openapi('AdminTour')

const listQuery = z.object({
  city: slug.optional(),
  status: status.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce
    .number({ message: 'must be a number' })
    .int()
    .min(1)
    .max(200)
    .default(50)
    .openapi({ type: 'integer' }),
})

const UnpublishSchema = z
  .strictObject({ by, reason: z.string().trim().min(3).max(1000) })
  .openapi('UnpublishRequest')
const PublishSchema = z.strictObject({ by }).openapi('PublishRequest')

const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** Create or replace one draft: a tour by city and slug, a catalog item by slug. */
const putRoute = <P extends z.ZodObject, B extends z.ZodType>(
  path: string,
  summary: string,
  params: P,
  body: B,
) =>
  createRoute({
    method: 'put',
    path,
    tags: ['catalog-admin'],
    summary,
    security: admin,
    request: { params, body: json(body) },
    responses: {
      200: { description: 'Saved.', content: { 'application/json': { schema: SavedSchema } } },
      ...errorResponses(401, 403, 404, 413, 415),
    },
  })

/** One cursor-paginated page of tours or catalog items, filtered by city and status. */
const listRoute = <I extends z.ZodType>(path: string, summary: string, item: I, name: string) =>
  createRoute({
    method: 'get',
    path,
    tags: ['catalog-admin'],
    summary,
    security: admin,
    request: { query: listQuery },
    responses: {
      200: {
        description: 'One page.',
        content: {
          'application/json': {
            schema: z.object({ items: z.array(item), next_cursor: z.string().nullable() }).openapi(name),
          },
        },
      },
      ...errorResponses(401, 403),
    },
  })

export const putTourRoute = putRoute(
  '/v1/admin/tours/{city}/{slug}',
  'Create or replace the draft of a tour (a published tour keeps its public version)',
  CitySlugParams,
  TourDraftSchema,
)

export const listToursRoute = listRoute(
  '/v1/admin/tours',
  'Tours with their draft and public versions and review flags, in id order, cursor-paginated',
  AdminTourSchema,
  'AdminTourList',
)

const actionRoute = (entity: 'tours' | 'catalog', action: 'publish' | 'unpublish') =>
  createRoute({
    method: 'post',
    path: `/v1/admin/${entity}/{id}/${action}`,
    tags: ['catalog-admin'],
    summary:
      action === 'publish'
        ? entity === 'tours'
          ? 'Publish through the gates (422 lists every failure: gate, stop, field, reason; 409 FOUR_EYES_REQUIRED when the caller edited the draft last)'
          : `Publish through the gates (422 lists every failure: gate, stop, field, reason)`
        : 'Take out of publication with a reason',
    security: admin,
    request: { params: IdParam, body: json(action === 'publish' ? PublishSchema : UnpublishSchema) },
    responses: {
      200: {
        description: 'Done.',
        content: {
          'application/json': {
            schema: z.object({
              id: z.number().int(),
              status,
              outcome: z.enum(['published', 'unchanged', 'unpublished']),
            }),
          },
        },
      },
      ...errorResponses(
        401,
        403,
        404,
        413,
        415,
        ...(action === 'publish' ? [422 as const] : []),
        // Four eyes (tours): the draft's last editor may not publish it.
        ...(action === 'publish' && entity === 'tours' ? [409 as const] : []),
      ),
    },
  })

export const publishTourRoute = actionRoute('tours', 'publish')
export const unpublishTourRoute = actionRoute('tours', 'unpublish')
export const publishItemRoute = actionRoute('catalog', 'publish')
export const unpublishItemRoute = actionRoute('catalog', 'unpublish')

export const CatalogItemDraftSchema = z
  .strictObject({
    by,
    city: slug,
    kind: z.enum(['tour', 'bundle']),
    title_ru: text(200),
    summary_ru: text(1000),
    cover: sha.nullable().optional(),
    paid: z.boolean(),
    tours: z.array(slug).max(100),
    offers: z.record(
      slug,
      z.strictObject({
        apple: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,100}$/)
          .optional(),
        rustore: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,100}$/)
          .optional(),
      }),
    ),
  })
  .openapi('CatalogItemRequest')

export const putItemRoute = putRoute(
  '/v1/admin/catalog/{slug}',
  'Create or replace a catalog item (a change takes it back to draft until published)',
  ItemSlugParam,
  CatalogItemDraftSchema,
)

const AdminCatalogItemSchema = z.object({
  id: z.number().int(),
  slug: z.string(),
  city: z.string(),
  kind: z.enum(['tour', 'bundle']),
  title_ru: z.string(),
  paid: z.boolean(),
  status,
  unpublished_reason: z.string().nullable(),
  updated_at: z.string(),
})

export const listItemsRoute = listRoute(
  '/v1/admin/catalog',
  'Catalog items, in id order, cursor-paginated',
  AdminCatalogItemSchema,
  'AdminCatalogList',
)

export const MediaSchema = z
  .object({
    sha256: z.string(),
    kind: z.enum(['image', 'audio']),
    mime: z.string(),
    bytes: z.number().int(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
    author: z.string().nullable(),
    license: z.string().nullable(),
    source_url: z.string().nullable(),
    url: z.string(),
    created: z.boolean().openapi({ description: 'false: the same bytes were already stored (deduplicated)' }),
  })
  .openapi('Media')

export const uploadMediaRoute = createRoute({
  method: 'post',
  path: '/v1/admin/media',
  tags: ['catalog-admin'],
  summary: 'Upload an image (JPEG, PNG, WebP) or narration audio (MP3, Ogg/Opus, AAC) as raw bytes',
  description:
    'The type is sniffed from the bytes (the declared type is ignored); executables and polyglots are ' +
    `refused with 415. Stored by sha256: the same bytes again answer the same medium. Licences: ${CONTENT_LICENSES.join(', ')}.`,
  security: admin,
  request: {
    query: z.object({
      by,
      author: z.string().max(300).optional(),
      license: z.string().max(40).optional(),
      source_url: z.string().max(2000).optional(),
    }),
    body: {
      required: true,
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
    },
  },
  responses: {
    200: { description: 'The stored medium.', content: { 'application/json': { schema: MediaSchema } } },
    ...errorResponses(401, 403, 413, 415),
  },
})

const CityParam = z.object({
  city: slug.openapi({ param: { name: 'city', in: 'path' }, example: 'sergiev-posad' }),
})

export const ContentImportBodySchema = z
  .strictObject({
    date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD' })
      // An impossible date (2030-13-45) is an invalid Date whose toISOString() throws: a 500.
      .refine(
        (s) =>
          !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) &&
          new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
        { message: 'must be a real calendar date' },
      )
      .optional()
      .openapi({ description: "Run date; default today in the city's time zone" }),
  })
  .openapi('ContentImportRequest')

export const ContentImportEnqueueResultSchema = z
  .object({
    job_id: z.uuid(),
    status: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']),
    type: z.literal('content_import'),
    city: z.string(),
    idempotency_key: z.string(),
    deduplicated: z.boolean(),
  })
  .openapi('ContentImportEnqueueResult')

export const enqueueContentImportRoute = createRoute({
  method: 'post',
  path: '/v1/admin/content/{city}/import',
  tags: ['catalog-admin'],
  summary: "Enqueue a content import run: the city's tour and catalog files from CONTENT_DIR",
  description:
    'Idempotent per `content_import|{city}|{boundary_ref}|{date}`: the same key answers the same job ' +
    '(`deduplicated: true`, header `Idempotent-Replayed: true`; a failed one is run again through ' +
    '`POST /v1/admin/jobs/{job_id}/retry`). The job records created, changed, unchanged and failed ' +
    'entries in its stats; any failed entry ends it FAILED with a reason naming what is missing. ' +
    '404 when the city does not exist or CONTENT_DIR has no directory for it. The body is optional.',
  security: admin,
  request: {
    params: CityParam,
    body: { required: false, content: { 'application/json': { schema: ContentImportBodySchema } } },
  },
  responses: {
    202: enqueuedResponse(ContentImportEnqueueResultSchema),
    ...errorResponses(401, 403, 404, 413, 415, 422),
  },
})
