import type { MiddlewareHandler } from 'hono'
import { LRUCache } from 'lru-cache'
import type { AppEnv } from './context.js'
import { AppError } from './errors.js'

export const APP_KEY_HEADER = 'X-App-Key'

/** Resolves the calling app (tenant) from its public app key; every public read is scoped by it. */
export const requireTenant: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = c.req.header(APP_KEY_HEADER)
  if (!key) throw new AppError('APP_KEY_REQUIRED', 'Передайте ключ приложения в заголовке X-App-Key')
  if (key.length > 200) throw new AppError('APP_KEY_INVALID', 'Ключ приложения не распознан')
  const db = c.var.deps.database.db
  const known = keysOf(db)
  let tenant = known.get(key)
  if (!tenant) {
    tenant = await db
      .selectFrom('tenants')
      .select(['id', 'slug', 'name'])
      .where('app_key', '=', key)
      .executeTakeFirst()
    if (!tenant) throw new AppError('APP_KEY_INVALID', 'Ключ приложения не распознан')
    known.set(key, tenant)
  }
  c.set('tenant', tenant)
  await next()
}

type Tenant = { id: number; slug: string; name: string }

/**
 * Keys recognised in the last seconds, per database handle: the hottest reads (map tiles) then
 * touch no table for the caller. Keys are set from configuration at start, so a short life is
 * only a bound for a key changed in the database by hand; unknown keys are never kept.
 */
const KEY_TTL_MS = 5_000
const recognised = new WeakMap<object, LRUCache<string, Tenant>>()
function keysOf(db: object): LRUCache<string, Tenant> {
  let cache = recognised.get(db)
  if (!cache) {
    cache = new LRUCache<string, Tenant>({ max: 1_000, ttl: KEY_TTL_MS })
    recognised.set(db, cache)
  }
  return cache
}
