import type { RouteHandler } from '@hono/zod-openapi'
import { roundCoordinate } from '../../platform/geo/lat-lon.js'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { decodeIdCursor, encodeIdCursor } from '../../platform/http/id-cursor.js'
import { attributionFields } from './attribution.js'
import { labelRu } from './labels.js'
import { findNearby } from './nearby.js'
import { findTenantPoi, listCityPois } from './places.queries.js'
import type {
  cityDetailRoute,
  geojsonRoute,
  getPoiRoute,
  listPoisRoute,
  nearbyRoute,
  searchRoute,
} from './places.routes.js'
import {
  cityDetail,
  cityGeojson,
  etagMatches,
  poiDetailView,
  search,
  tenantCityOr404,
} from './places.service.js'

/** Shared by any app that offers the city; revalidate cheaply through the ETag. */
const GEOJSON_CACHE = 'public, max-age=300, stale-while-revalidate=3600'

export const getCity: RouteHandler<typeof cityDetailRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  return c.json(await cityDetail(c.var.deps.database.db, c.var.tenant.id, slug), 200)
}

export const listPois: RouteHandler<typeof listPoisRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  const q = c.req.valid('query')
  const db = c.var.deps.database.db
  const city = await tenantCityOr404(db, c.var.tenant.id, slug)
  const rows = await listCityPois(db, {
    cityId: city.id,
    ...(q.category ? { category: q.category } : {}),
    ...(q.bbox ? { bbox: parseBbox(q.bbox) } : {}),
    ...(q.cursor ? { after: decodeIdCursor(q.cursor) } : {}),
    limit: q.limit,
  })
  const page = rows.slice(0, q.limit)
  const last = page[page.length - 1]
  return c.json(
    {
      items: page.map((r) => ({
        ...r,
        lat: roundCoordinate(r.lat),
        lon: roundCoordinate(r.lon),
        category_label: labelRu(r.category),
      })),
      next_cursor: rows.length > q.limit && last ? encodeIdCursor(last.id) : null,
      ...attributionFields,
    },
    200,
  )
}

export const getPoi: RouteHandler<typeof getPoiRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const poi = await findTenantPoi(c.var.deps.database.db, c.var.tenant.id, id)
  if (!poi) throw new AppError('POI_NOT_FOUND', `Объект ${id} не найден`)
  return c.json(poiDetailView(poi), 200)
}

export const nearby: RouteHandler<typeof nearbyRoute, AppEnv> = async (c) => {
  const q = c.req.valid('query')
  const kinds = (q.kinds ?? 'poi,helper').split(',') as Array<'poi' | 'helper'>
  const items = await findNearby(c.var.deps.database, c.var.tenant.id, {
    lat: q.lat,
    lon: q.lon,
    radiusM: q.radius_m,
    kinds: [...new Set(kinds)],
    ...(q.category ? { category: q.category } : {}),
    limit: q.limit,
  })
  return c.json({ items, ...attributionFields }, 200)
}

export const searchPlaces: RouteHandler<typeof searchRoute, AppEnv> = async (c) => {
  const q = c.req.valid('query')
  const result = await search(c.var.deps.database.db, c.var.tenant.id, {
    q: q.q,
    ...(q.city ? { city: q.city } : {}),
    limit: q.limit,
  })
  return c.json(result, 200)
}

export const cityPoisGeojson: RouteHandler<typeof geojsonRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  const { body, etag } = await cityGeojson(c.var.deps.database.db, c.var.tenant.id, slug)
  const headers = { ETag: etag, 'Cache-Control': GEOJSON_CACHE, Vary: 'X-App-Key, Accept-Encoding' }
  if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers)
  return c.body(body, 200, { ...headers, 'Content-Type': 'application/geo+json; charset=utf-8' })
}

function parseBbox(text: string): [number, number, number, number] {
  const parts = text.split(',').map((p) => (/^-?\d+(\.\d+)?$/.test(p.trim()) ? Number(p) : Number.NaN))
  const [minLon, minLat, maxLon, maxLat] = parts as [number, number, number, number]
  const valid =
    parts.length === 4 &&
    parts.every(Number.isFinite) &&
    minLon >= -180 &&
    maxLon <= 180 &&
    minLat >= -90 &&
    maxLat <= 90 &&
    minLon < maxLon &&
    minLat < maxLat
  if (!valid) {
    throw new AppError('VALIDATION_FAILED', 'Некорректный bbox', [
      { path: 'query.bbox', message: 'bbox: ожидается minLon,minLat,maxLon,maxLat в градусах, min < max' },
    ])
  }
  return [minLon, minLat, maxLon, maxLat]
}
