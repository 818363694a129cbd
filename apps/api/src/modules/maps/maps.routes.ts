import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'

const appKey = [{ AppKey: [] }]
const SlugParam = z.object({
  slug: z.string().regex(/^[a-z0-9-]{2,60}$/, { message: 'ожидается код города' }),
})

const tileIndex = (what: string) =>
  z
    .string()
    .regex(/^\d{1,8}$/, { message: `${what}: ожидается целое число` })
    .transform(Number)

export const tileRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/tiles/{z}/{x}/{y}',
  tags: ['maps'],
  summary: 'A vector tile (MVT v2) of the city: layers `pois` and `helpers`, clustered at low zoom',
  description:
    'The last path segment is `{y}.mvt`. Served gzip-compressed from the archive built after the last ' +
    'publish run. `204` for a tile with no feature. Strong `ETag` per data version (`304` on ' +
    '`If-None-Match`); with `?v=` equal to the current version (as TileJSON writes it) the tile is ' +
    'immutable for a year, otherwise cached for 5 minutes.',
  security: appKey,
  request: {
    params: SlugParam.extend({
      z: tileIndex('масштаб'),
      x: tileIndex('столбец тайла'),
      y: z
        .string()
        .regex(/^\d{1,8}\.mvt$/, { message: 'строка тайла: ожидается «<число>.mvt»' })
        .transform((v) => Number(v.slice(0, -4)))
        .openapi({ example: '4979.mvt' }),
    }),
    query: z.object({ v: z.string().max(64).optional() }),
    headers: z.object({ 'if-none-match': z.string().optional() }),
  },
  responses: {
    200: {
      description: 'The tile (gzip when `Accept-Encoding` allows it).',
      headers: z.object({ ETag: z.string(), 'Cache-Control': z.string() }),
      content: { 'application/vnd.mapbox-vector-tile': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    204: { description: 'No feature in this tile.' },
    304: { description: 'Not modified.' },
    ...errorResponses(400, 401, 404),
  },
})

const VectorLayer = z.object({
  id: z.string(),
  description: z.string(),
  minzoom: z.number().int(),
  maxzoom: z.number().int(),
  fields: z.record(z.string(), z.string()),
})

export const tileJsonRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/tiles.json',
  tags: ['maps'],
  summary: 'TileJSON 3.0.0 of the city’s vector tiles',
  security: appKey,
  request: { params: SlugParam },
  responses: {
    200: {
      description: 'TileJSON; `tiles` carries the data version, so tile URLs change with every build.',
      content: {
        'application/json': {
          schema: z
            .object({
              tilejson: z.literal('3.0.0'),
              name: z.string(),
              scheme: z.literal('xyz'),
              version: z.string(),
              tiles: z.array(z.string()),
              minzoom: z.number().int(),
              maxzoom: z.number().int(),
              bounds: z.array(z.number()),
              center: z.array(z.number()),
              attribution: z.string(),
              vector_layers: z.array(VectorLayer),
            })
            .openapi('TileJson'),
        },
      },
    },
    ...errorResponses(401, 404),
  },
})

export const styleRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/style.json',
  tags: ['maps'],
  summary:
    'MapLibre style of the city: background and the offline basemap (once built) below; helpers, POI clusters and POIs above',
  security: appKey,
  request: { params: SlugParam },
  responses: {
    200: {
      description: 'A MapLibre style (version 8) with Russian labels.',
      content: {
        'application/json': {
          schema: z
            .object({
              version: z.literal(8),
              name: z.string(),
              center: z.array(z.number()),
              zoom: z.number(),
              sources: z.record(
                z.string(),
                z.object({ type: z.string(), url: z.string(), attribution: z.string().optional() }),
              ),
              layers: z.array(z.object({ id: z.string(), type: z.string() }).passthrough()),
            })
            .openapi('MapStyle'),
        },
      },
    },
    ...errorResponses(401, 404),
  },
})

const pmtilesContent = { 'application/vnd.pmtiles': { schema: z.string().openapi({ format: 'binary' }) } }
const basemapHeaders = z.object({
  ETag: z.string(),
  'Accept-Ranges': z.string(),
  'Cache-Control': z.string(),
  'Content-Length': z.string(),
})

export const basemapRoute = createRoute({
  method: 'get',
  path: '/v1/cities/{slug}/basemap.pmtiles',
  tags: ['maps'],
  summary: 'The city’s offline basemap: a PMTiles v3 archive of OpenMapTiles-schema vector tiles',
  description:
    'Built from the city’s OSM extract by a `tiles` job (tilemaker), clipped to the city, Russian ' +
    'names in `name`. Read it with `Range` requests (one range per request; `206`, `416` outside ' +
    'the file); `If-Range` with the strong `ETag` (the archive’s sha256) resumes a download only ' +
    'while the archive is the same, otherwise the whole new archive is sent. `404` until a basemap ' +
    'is built. Data © OpenStreetMap contributors (ODbL); the attribution is in the archive’s ' +
    'metadata and in the style.',
  security: appKey,
  request: {
    params: SlugParam,
    headers: z.object({
      range: z.string().max(200).optional(),
      'if-range': z.string().max(200).optional(),
      'if-none-match': z.string().max(200).optional(),
    }),
  },
  responses: {
    200: { description: 'The whole archive.', headers: basemapHeaders, content: pmtilesContent },
    206: {
      description: 'The requested range.',
      headers: basemapHeaders.extend({ 'Content-Range': z.string() }),
      content: pmtilesContent,
    },
    304: { description: 'Not modified (If-None-Match matched).' },
    ...errorResponses(401, 404, 416),
  },
})
