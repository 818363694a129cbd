import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'
import { AUDIO_MIMES, IMAGE_MIMES } from './media-sniff.js'

/** Media is served in the type sniffed from its bytes at upload: exactly the allowed types. */
const mediaContent = Object.fromEntries(
  [...IMAGE_MIMES, ...AUDIO_MIMES].map((type) => [
    type,
    { schema: z.string().openapi({ format: 'binary' }) },
  ]),
)

/** An app key always; an account token optionally (without one, paid content is `locked`). */
const appKey: Array<Record<string, string[]>> = [{ AppKey: [] }, { AppKey: [], Bearer: [] }]

const SlugParam = z.object({
  slug: z
    .string()
    .regex(/^[a-z0-9-]{2,60}$/, { message: 'ожидается код города' })
    .openapi({ param: { name: 'slug', in: 'path' }, example: 'sergiev-posad' }),
})

export const TourIdParam = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, { message: 'ожидается идентификатор тура' })
    .transform(Number)
    .openapi({ param: { name: 'id', in: 'path' }, type: 'integer' }),
})

const AccessSchema = z.enum(['free', 'owned', 'locked']).openapi({
  description: '`owned` only with an account token; without one a paid item is `locked`',
})

const CatalogTourSchema = z
  .object({
    id: z.number().int(),
    title_ru: z.string(),
    stop_count: z.number().int(),
    duration_min: z.number().int(),
    length_m: z.number().int(),
  })
  .openapi('CatalogTour')

export const CatalogItemSchema = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    kind: z.enum(['tour', 'bundle']),
    title_ru: z.string(),
    summary_ru: z.string(),
    cover_url: z.string().nullable(),
    access: AccessSchema,
    product_id: z.string().optional().openapi({
      description: "The platform store's product id (App Store on ios, RuStore on android); absent when free",
    }),
    tours: z.array(CatalogTourSchema),
  })
  .openapi('CatalogItem')

export const cityCatalogRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/catalog',
  tags: ['catalog'],
  summary: "The calling app's published catalog items of a city (no prices: the stores show them)",
  security: appKey,
  request: {
    params: SlugParam,
    query: z.object({
      platform: z.enum(['ios', 'android'], { message: 'платформа: ios или android' }),
    }),
  },
  responses: {
    200: {
      description: 'The catalog.',
      content: {
        'application/json': {
          schema: z.object({ city: z.string(), items: z.array(CatalogItemSchema) }).openapi('Catalog'),
        },
      },
    },
    ...errorResponses(401, 403, 404),
  },
})

const LineStringSchema = z.object({
  type: z.literal('LineString'),
  coordinates: z.array(z.array(z.number())),
})

export const TourSchema = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    city: z.string(),
    access: AccessSchema,
    title_ru: z.string(),
    summary_ru: z.string(),
    description_ru: z.string().optional().openapi({ description: 'Absent when locked' }),
    cover_url: z.string().nullable(),
    duration_min: z.number().int(),
    length_m: z.number().int(),
    content_hash: z
      .string()
      .openapi({ description: 'sha256 of the public version; changes with every publish' }),
    route: LineStringSchema,
    stops: z.array(
      z.object({
        position: z.number().int(),
        title_ru: z.string(),
        lat: z.number(),
        lon: z.number(),
        trigger_radius_m: z.number().int(),
        poi_id: z.number().int().nullable(),
        locked: z.boolean(),
        narration_ru: z.string().optional().openapi({ description: 'Absent on a locked stop' }),
        image_url: z.string().nullable().optional(),
        audio_url: z.string().nullable().optional(),
      }),
    ),
  })
  .openapi('Tour')

export const tourRoute = createRoute({
  method: 'get',
  path: '/v1/tours/{id}',
  tags: ['catalog'],
  summary: 'A tour: whole when free or owned, a preview when locked (first stop narrated only)',
  security: appKey,
  request: { params: TourIdParam },
  responses: {
    200: { description: 'The tour.', content: { 'application/json': { schema: TourSchema } } },
    ...errorResponses(401, 403, 404),
  },
})

export const tourGeojsonRoute = createRoute({
  method: 'get',
  path: '/v1/tours/{id}.geojson',
  tags: ['catalog'],
  summary: 'The route line and stop points of a tour for MapLibre',
  security: appKey,
  request: { params: TourIdParam },
  responses: {
    200: {
      description: 'A GeoJSON FeatureCollection.',
      content: {
        'application/geo+json': {
          schema: z
            .object({
              type: z.literal('FeatureCollection'),
              features: z.array(
                z.object({
                  type: z.literal('Feature'),
                  geometry: z.object({ type: z.string(), coordinates: z.array(z.unknown()) }),
                  properties: z.record(z.string(), z.unknown()),
                }),
              ),
            })
            .openapi('TourGeojson'),
        },
      },
    },
    ...errorResponses(401, 403, 404),
  },
})

export const mediaRoute = createRoute({
  method: 'get',
  path: '/v1/media/{sha256}',
  tags: ['catalog'],
  summary: 'A medium by its sha256: covers and previews for anyone, media of locked stops only with access',
  description: 'Strong ETag (the sha256), immutable caching, `Range` (one range) answered with 206.',
  security: appKey,
  request: {
    params: z.object({
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, { message: 'ожидается sha256 в шестнадцатеричном виде' })
        .openapi({ param: { name: 'sha256', in: 'path' } }),
    }),
    headers: z.object({ range: z.string().max(200).optional() }),
  },
  responses: {
    200: {
      description: 'The bytes.',
      content: mediaContent,
    },
    206: {
      description: 'The requested range.',
      content: mediaContent,
    },
    304: { description: 'Not modified (If-None-Match matched).' },
    ...errorResponses(401, 403, 404, 416),
  },
})
