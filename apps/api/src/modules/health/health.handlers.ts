import type { RouteHandler } from '@hono/zod-openapi'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { createDbProbe } from './db-probe.js'
import type { healthRoute } from './health.routes.js'

const probes = new WeakMap<object, ReturnType<typeof createDbProbe>>()

export const health: RouteHandler<typeof healthRoute, AppEnv> = async (c) => {
  const { database, version, startedAt } = c.var.deps
  let probe = probes.get(database)
  if (!probe) {
    probe = createDbProbe(database.db)
    probes.set(database, probe)
  }
  if (!(await probe())) throw new AppError('SERVICE_UNAVAILABLE', 'База данных не отвечает')
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
