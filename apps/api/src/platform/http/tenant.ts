import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './context.js'
import { AppError } from './errors.js'

export const APP_KEY_HEADER = 'X-App-Key'

/** Resolves the calling app (tenant) from its public app key; every public read is scoped by it. */
export const requireTenant: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = c.req.header(APP_KEY_HEADER)
  if (!key) throw new AppError('APP_KEY_REQUIRED', 'Передайте ключ приложения в заголовке X-App-Key')
  if (key.length > 200) throw new AppError('APP_KEY_INVALID', 'Ключ приложения не распознан')
  const tenant = await c.var.deps.database.db
    .selectFrom('tenants')
    .select(['id', 'slug', 'name'])
    .where('app_key', '=', key)
    .executeTakeFirst()
  if (!tenant) throw new AppError('APP_KEY_INVALID', 'Ключ приложения не распознан')
  c.set('tenant', tenant)
  await next()
}
