import type { RouteHandler } from '@hono/zod-openapi'
import { sql } from 'kysely'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import type { healthRoute } from './health.routes.js'

const DB_CHECK_TIMEOUT_MS = 2_000

export const health: RouteHandler<typeof healthRoute, AppEnv> = async (c) => {
  const { database, version, startedAt } = c.var.deps
  const ok = await pingDatabase(database.db)
  if (!ok) throw new AppError('SERVICE_UNAVAILABLE', 'База данных не отвечает')
  return c.json(
    {
      status: 'ok' as const,
      db: 'ok' as const,
      version,
      uptime_s: Math.round((Date.now() - startedAt) / 100) / 10,
    },
    200,
  )
}

async function pingDatabase(db: AppEnv['Variables']['deps']['database']['db']): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), DB_CHECK_TIMEOUT_MS)
  })
  try {
    return await Promise.race([sql`select 1`.execute(db).then(() => true), timeout])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
