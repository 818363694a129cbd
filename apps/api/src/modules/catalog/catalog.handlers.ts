import type { RouteHandler } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { serveBytes } from '../../platform/http/byte-range.js'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { mediaPlacement, tourAccess } from './access.js'
import type { cityCatalogRoute, mediaRoute, tourRoute } from './catalog.routes.js'
import { ownedItemIds } from './entitlements.service.js'
import { localMediaStore } from './media-store.js'
import { cityCatalog, tourDetail, tourGeojson } from './public.service.js'

/** Catalog items the caller's account owns, from its entitlements on every request; none without a token. */
export async function ownedItems(c: Context<AppEnv>): Promise<ReadonlySet<number>> {
  const account = c.get('account')
  if (!account) return new Set()
  return ownedItemIds(c.var.deps.database.db, account.tenantId, account.accountId)
}

export const catalogHandler: RouteHandler<typeof cityCatalogRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  const { platform } = c.req.valid('query')
  const body = await cityCatalog(c.var.deps.database.db, c.var.tenant.id, slug, platform, await ownedItems(c))
  c.header('Cache-Control', 'private, no-cache')
  return c.json(body, 200)
}

export const tourHandler: RouteHandler<typeof tourRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const body = await tourDetail(c.var.deps.database.db, c.var.tenant.id, id, await ownedItems(c))
  c.header('Cache-Control', 'private, no-cache')
  return c.json(body, 200)
}

/**
 * Mounted on `/v1/tours/:file{<id>.geojson}` by hand: a route param followed by a literal suffix in
 * one segment would otherwise swallow `/v1/tours/{id}`. The OpenAPI path is registered beside it.
 */
export const tourGeojsonHandler = async (c: Context<AppEnv>) => {
  const id = Number(c.req.param('file')?.replace(/\.geojson$/, ''))
  const body = await tourGeojson(c.var.deps.database.db, c.var.tenant.id, id, await ownedItems(c))
  return c.body(JSON.stringify(body), 200, {
    'content-type': 'application/geo+json',
    'cache-control': 'private, no-cache',
  })
}

export const mediaHandler: RouteHandler<typeof mediaRoute, AppEnv> = async (c) => {
  const { sha256 } = c.req.valid('param')
  const db = c.var.deps.database.db
  const placement = await mediaPlacement(db, c.var.tenant.id, sha256)
  if (!placement) throw new AppError('MEDIA_NOT_FOUND', `Медиафайл ${sha256} не найден`)
  if (!placement.public) {
    const access = await tourAccess(db, c.var.tenant.id, placement.tourIds, await ownedItems(c))
    if (![...access.values()].some((a) => a !== 'locked'))
      throw new AppError('MEDIA_LOCKED', 'Медиафайл остановки доступен после покупки тура')
  }
  const media = await db
    .selectFrom('media')
    .select(['mime', 'bytes', 'storage_key'])
    .where('sha256', '=', sha256)
    .executeTakeFirstOrThrow()
  const store = localMediaStore(c.var.deps.config.content.mediaDir)
  return serveBytes(c, {
    size: Number(media.bytes),
    etag: `"${sha256}"`,
    contentType: media.mime,
    cacheControl: placement.public
      ? 'public, max-age=31536000, immutable'
      : 'private, max-age=31536000, immutable',
    read: (range) => store.read(media.storage_key, range),
  })
}
