import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'
import { CitySchema } from '../cities/index.js'

const appKey = [{ AppKey: [] }]
const NUMBER = /^-?\d+(\.\d+)?$/

/** A decimal number in a query string, within bounds ('' and 'abc' are refused, never read as 0). */
const decimal = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(NUMBER, { message: `${what}: ожидается число` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `${what}: не меньше ${min}` })
        .max(max, { message: `${what}: не больше ${max}` }),
    )

const integer = (min: number, max: number, fallback: number, what: string) =>
  z
    .string()
    .regex(/^\d{1,9}$/, { message: `${what}: ожидается целое число` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `${what}: не меньше ${min}` })
        .max(max, { message: `${what}: не больше ${max}` }),
    )
    .optional()
    .transform((v) => v ?? fallback)
    .openapi({ type: 'integer', minimum: min, maximum: max, default: fallback })

const categorySlug = z
  .string()
  .regex(/^[a-z_]{2,40}$/, { message: 'категория: ожидается код категории' })
  .openapi({ example: 'museum' })

const Attribution = {
  attribution: z.literal('© OpenStreetMap contributors'),
  license: z.literal('ODbL-1.0'),
}

const SlugParam = z.object({
  slug: z
    .string()
    .regex(/^[a-z0-9-]{2,60}$/, { message: 'ожидается код города' })
    .openapi({ param: { name: 'slug', in: 'path' }, example: 'sergiev-posad' }),
})

export const CityDetailSchema = CitySchema.extend({
  poi_total: z.number().int(),
  poi_counts: z.array(z.object({ category: z.string(), label_ru: z.string(), count: z.number().int() })),
  ...Attribution,
}).openapi('CityDetail')

export const cityDetailRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}',
  tags: ['places'],
  summary: 'A city of the calling app with its published POIs counted per category',
  security: appKey,
  request: { params: SlugParam },
  responses: {
    200: { description: 'The city.', content: { 'application/json': { schema: CityDetailSchema } } },
    ...errorResponses(401, 404),
  },
})

const PoiSummarySchema = z
  .object({
    id: z.number().int(),
    name_ru: z.string(),
    category: z.string(),
    category_label: z.string().openapi({ example: 'Музей' }),
    lat: z.number(),
    lon: z.number(),
  })
  .openapi('PoiSummary')

export const listPoisRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/pois',
  tags: ['places'],
  summary: 'Published POIs of a city, in id order, cursor-paginated',
  security: appKey,
  request: {
    params: SlugParam,
    query: z.object({
      category: categorySlug.optional(),
      bbox: z
        .string()
        .max(200)
        .optional()
        .openapi({ description: 'minLon,minLat,maxLon,maxLat', example: '38.12,56.30,38.15,56.32' }),
      cursor: z.string().max(200).optional(),
      limit: integer(1, 200, 50, 'limit'),
    }),
  },
  responses: {
    200: {
      description: 'One page; `next_cursor` is null on the last page.',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(PoiSummarySchema), next_cursor: z.string().nullable(), ...Attribution })
            .openapi('PoiList'),
        },
      },
    },
    ...errorResponses(401, 404),
  },
})

const SourceSchema = z
  .object({
    type: z.literal('osm'),
    osm_type: z.enum(['node', 'way', 'relation']),
    osm_id: z.number().int(),
    version: z.number().int().nullable(),
    timestamp: z.string().nullable(),
    url: z.string(),
  })
  .openapi('PoiSource')

export const PoiDetailSchema = z
  .object({
    id: z.number().int(),
    city: z.string(),
    name_ru: z.string(),
    category: z.string(),
    category_label: z.string(),
    position: z.object({ lat: z.number(), lon: z.number() }),
    address: z.record(z.string(), z.unknown()).nullable(),
    opening_hours: z.string().nullable(),
    website: z.string().nullable(),
    phone: z.string().nullable(),
    wikidata: z.object({ id: z.string(), url: z.string() }).nullable(),
    wikipedia: z.object({ lang: z.string(), title: z.string(), url: z.string() }).nullable(),
    heritage: z.record(z.string(), z.unknown()).nullable(),
    sources: z.array(SourceSchema),
    ...Attribution,
  })
  .openapi('PoiDetail')

export const getPoiRoute = createRoute({
  method: 'get',
  path: '/v1/pois/{id}',
  tags: ['places'],
  summary: 'A published POI of one of the calling app’s cities',
  security: appKey,
  request: {
    params: z.object({
      id: z
        .string()
        .regex(/^[1-9]\d{0,15}$/, { message: 'ожидается идентификатор объекта' })
        .transform(Number)
        .openapi({ param: { name: 'id', in: 'path' }, type: 'integer' }),
    }),
  },
  responses: {
    200: {
      description: 'The POI with its sources and licence.',
      content: { 'application/json': { schema: PoiDetailSchema } },
    },
    ...errorResponses(401, 404),
  },
})

const NearbyItemSchema = z
  .object({
    kind: z.enum(['poi', 'helper']),
    id: z.number().int(),
    name: z.string().nullable(),
    category: z.string(),
    category_label: z.string(),
    city: z.string(),
    lat: z.number(),
    lon: z.number(),
    distance_m: z.number().openapi({ description: 'Great-circle distance in metres, 1 decimal' }),
  })
  .openapi('NearbyItem')

export const nearbyRoute = createRoute({
  method: 'get',
  path: '/v1/nearby',
  tags: ['places'],
  summary: 'Published POIs and helper places around a point, nearest first (discovery only)',
  security: appKey,
  request: {
    query: z.object({
      lat: decimal(-90, 90, 'lat').openapi({ type: 'number', example: 56.3107 }),
      lon: decimal(-180, 180, 'lon').openapi({ type: 'number', example: 38.1302 }),
      radius_m: integer(1, 20000, 1000, 'radius_m'),
      kinds: z
        .string()
        .regex(/^(poi|helper)(,(poi|helper))?$/, { message: 'kinds: poi, helper или poi,helper' })
        .optional()
        .openapi({ example: 'poi,helper', description: 'Default: poi,helper' }),
      category: categorySlug.optional().openapi({ description: 'A POI category or helper kind' }),
      limit: integer(1, 100, 20, 'limit'),
    }),
  },
  responses: {
    200: {
      description: 'Within the radius and the calling app’s cities, nearest first.',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(NearbyItemSchema), ...Attribution }).openapi('NearbyList'),
        },
      },
    },
    ...errorResponses(401, 404),
  },
})

const SearchItemSchema = z
  .object({
    id: z.number().int(),
    name_ru: z.string(),
    category: z.string(),
    category_label: z.string(),
    city: z.string(),
    lat: z.number(),
    lon: z.number(),
    score: z.number().openapi({ description: 'Relevance 0..1 (trigram similarity)' }),
  })
  .openapi('SearchItem')

export const searchRoute = createRoute({
  method: 'get',
  path: '/v1/search',
  tags: ['places'],
  summary: 'Search published POIs by Russian name (case, ё/е and small typos tolerated)',
  security: appKey,
  request: {
    query: z.object({
      q: z
        .string()
        .trim()
        .min(2, { message: 'q: не короче 2 символов' })
        .max(100, { message: 'q: не длиннее 100 символов' })
        .openapi({ example: 'лавра' }),
      city: z
        .string()
        .regex(/^[a-z0-9-]{2,60}$/, { message: 'city: ожидается код города' })
        .optional(),
      limit: integer(1, 50, 20, 'limit'),
    }),
  },
  responses: {
    200: {
      description: 'Best matches first.',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(SearchItemSchema), ...Attribution }).openapi('SearchResult'),
        },
      },
    },
    ...errorResponses(401, 404),
  },
})

export const geojsonRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/pois.geojson',
  tags: ['places'],
  summary: 'Published POIs of a city as a GeoJSON FeatureCollection (a MapLibre source)',
  description:
    'Compact properties (id, name, category); coordinates rounded to 7 decimals. `ETag` with `304` on ' +
    '`If-None-Match`; gzip with `Accept-Encoding: gzip`.',
  security: appKey,
  request: {
    params: SlugParam,
    headers: z.object({ 'if-none-match': z.string().optional() }),
  },
  responses: {
    200: {
      description: 'FeatureCollection with `attribution` and `license` members.',
      headers: z.object({ ETag: z.string(), 'Cache-Control': z.string() }),
      content: {
        'application/geo+json': {
          schema: z
            .object({
              type: z.literal('FeatureCollection'),
              features: z.array(
                z.object({
                  type: z.literal('Feature'),
                  id: z.number().int(),
                  geometry: z.object({
                    type: z.literal('Point'),
                    coordinates: z.tuple([z.number(), z.number()]),
                  }),
                  properties: z.object({ id: z.number().int(), name: z.string(), category: z.string() }),
                }),
              ),
              ...Attribution,
            })
            .openapi('PoiFeatureCollection'),
        },
      },
    },
    304: { description: 'Not modified (the `If-None-Match` ETag is current).' },
    ...errorResponses(401, 404),
  },
})
