import type { RouteHandler } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { localBlobStore } from '../../platform/blobs/blob-store.js'
import { serveBytes } from '../../platform/http/byte-range.js'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { etagMatches, tenantCityOr404 } from '../places/index.js'
import { findBasemap } from './basemap.queries.js'
import { mapStyle, tileJson, tileVersion } from './map-style.js'
import { findTile, latestBuild } from './maps.queries.js'
import type { basemapRoute, styleRoute, tileJsonRoute, tileRoute } from './maps.routes.js'
import { tileCacheOf } from './tile-cache.js'

const IMMUTABLE = 'public, max-age=31536000, immutable'
const REVALIDATE = 'public, max-age=300, stale-while-revalidate=86400'
const VARY = 'X-App-Key, Accept-Encoding'

async function cityAndBuild(c: Context<AppEnv>, slug: string) {
  const db = c.var.deps.database.db
  const city = await tenantCityOr404(db, c.var.tenant.id, slug)
  const build = await latestBuild(db, city.id)
  if (!build) throw new AppError('NOT_FOUND', `Карта города «${slug}» ещё не построена`)
  return { db, city, build }
}

function origin(c: Context<AppEnv>) {
  return new URL(c.req.url).origin
}

function cityInfo(city: { slug: string; name_ru: string; center_lon: number; center_lat: number }) {
  return { slug: city.slug, name_ru: city.name_ru, center: [city.center_lon, city.center_lat] }
}

export const getTile: RouteHandler<typeof tileRoute, AppEnv> = async (c) => {
  const { slug, z, x, y } = c.req.valid('param')
  const { v } = c.req.valid('query')
  if (z > 30 || x >= 2 ** z || y >= 2 ** z)
    throw new AppError('VALIDATION_FAILED', 'Тайла с такими координатами не существует', [
      { path: 'z/x/y', message: 'x и y должны быть меньше 2^z, z — не больше 30' },
    ])
  const db = c.var.deps.database.db
  // Served from the in-process cache of the built archive: no database read on a hit (ADR 014).
  const tiles = tileCacheOf(db, c.var.deps.config.maps.tileCacheBytes)
  const build = await tiles.build(c.var.tenant.id, slug, v, async () => {
    const found = await cityAndBuild(c, slug)
    return {
      cityId: found.city.id,
      buildId: found.build.id,
      version: tileVersion(found.build),
      maxZoom: found.build.max_zoom,
    }
  })
  const { version } = build
  const cache = v === version ? IMMUTABLE : REVALIDATE
  const tile =
    z <= build.maxZoom
      ? await tiles.tile(build, z, x, y, async () => {
          const row = await findTile(db, build.buildId, z, x, y)
          return row ? { gzip: Buffer.from(row.data), sha256: row.sha256 } : undefined
        })
      : undefined
  if (!tile) return c.body(null, 204, { 'Cache-Control': cache, Vary: VARY })
  const etag = `"${version}-${tile.sha256.slice(0, 16)}"`
  const headers = { ETag: etag, 'Cache-Control': cache, Vary: VARY }
  if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers)
  const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')
  const body = (gzip ? tile.gzip : tiles.plain(build, z, x, y, tile)) as Uint8Array<ArrayBuffer>
  return c.body(body, 200, {
    ...headers,
    'Content-Type': 'application/vnd.mapbox-vector-tile',
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  })
}

export const getTileJson: RouteHandler<typeof tileJsonRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  const { city, build } = await cityAndBuild(c, slug)
  c.header('Cache-Control', 'public, max-age=60')
  return c.json(tileJson(origin(c), cityInfo(city), build), 200)
}

export const getStyle: RouteHandler<typeof styleRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  const { db, city } = await cityAndBuild(c, slug)
  const basemap = await findBasemap(db, city.id)
  c.header('Cache-Control', 'public, max-age=300')
  return c.json(mapStyle(origin(c), cityInfo(city), basemap !== undefined), 200)
}

export const getBasemap: RouteHandler<typeof basemapRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  const db = c.var.deps.database.db
  const city = await tenantCityOr404(db, c.var.tenant.id, slug)
  const basemap = await findBasemap(db, city.id)
  if (!basemap) throw new AppError('NOT_FOUND', `Базовая карта города «${slug}» ещё не построена`)
  const blobs = localBlobStore(c.var.deps.config.blobDir)
  const size = await blobs.size(basemap.sha256)
  if (size === null) throw new AppError('NOT_FOUND', `Файл базовой карты города «${slug}» не найден`)
  // The current archive under an unversioned URL: caches keep it briefly and revalidate by ETag.
  return serveBytes(c, {
    size,
    etag: `"${basemap.sha256}"`,
    contentType: 'application/vnd.pmtiles',
    cacheControl: 'public, max-age=300, stale-while-revalidate=86400',
    headers: { 'access-control-expose-headers': 'ETag, Content-Range, Accept-Ranges', vary: 'X-App-Key' },
    read: (range) => blobs.read(basemap.sha256, range),
  }) as never
}
