import type { RouteHandler } from '@hono/zod-openapi'
import { localBlobStore } from '../../platform/blobs/blob-store.js'
import { serveBytes } from '../../platform/http/byte-range.js'
import type { AppDeps, AppEnv } from '../../platform/http/context.js'
import { ownedItems } from '../catalog/catalog.handlers.js'
import { localMediaStore } from '../catalog/index.js'
import { blobAccess, cityManifest, onboarding, packChanges, packKeys } from './pack.service.js'
import type { blobRoute, changesRoute, keysRoute, manifestRoute, onboardingRoute } from './packs.routes.js'

export const blobsOf = (deps: AppDeps) => localBlobStore(deps.config.blobDir)

export const manifestHandler: RouteHandler<typeof manifestRoute, AppEnv> = async (c) => {
  const { deps } = c.var
  const manifest = await cityManifest(
    { config: deps.config, db: deps.database.db, blobs: blobsOf(deps) },
    c.var.tenant,
    c.req.valid('param').slug,
    c.req.valid('query').platform,
    await ownedItems(c),
  )
  c.header('Cache-Control', 'private, no-cache')
  return c.json(manifest as never, 200)
}

export const changesHandler: RouteHandler<typeof changesRoute, AppEnv> = async (c) => {
  const body = await packChanges(
    c.var.deps.database.db,
    blobsOf(c.var.deps),
    c.var.tenant.id,
    c.req.valid('param').slug,
    c.req.valid('query').since,
  )
  return c.body(body, 200, { 'content-type': 'application/x-ndjson', 'cache-control': 'private, no-cache' })
}

export const keysHandler: RouteHandler<typeof keysRoute, AppEnv> = async (c) =>
  c.json(await packKeys({ config: c.var.deps.config, db: c.var.deps.database.db }), 200, {
    'cache-control': 'public, max-age=300',
  })

export const blobHandler: RouteHandler<typeof blobRoute, AppEnv> = async (c) => {
  const { hex } = c.req.valid('param')
  const { deps } = c.var
  const blob = await blobAccess(deps.database.db, c.var.tenant.id, hex, await ownedItems(c))
  const store = blob.store === 'media' ? localMediaStore(deps.config.content.mediaDir) : null
  const blobs = blobsOf(deps)
  return serveBytes(c, {
    size: blob.bytes,
    etag: `"${hex}"`,
    contentType: blob.media_type.includes('json') ? 'application/octet-stream' : blob.media_type,
    cacheControl: 'public, max-age=31536000, immutable',
    read: (range) => (store ? store.read(hex, range) : blobs.read(hex, range)),
  }) as never
}

export const onboardingHandler: RouteHandler<typeof onboardingRoute, AppEnv> = async (c) =>
  c.json(await onboarding(c.var.deps.database.db, c.var.tenant.id), 200, {
    'cache-control': 'private, no-cache',
  })
