import type { RouteHandler } from '@hono/zod-openapi'
import type { AppEnv } from '../../platform/http/context.js'
import { listTenantCities } from './cities.queries.js'
import type { listCitiesRoute } from './cities.routes.js'
import { cityView } from './city-view.js'

export const listCities: RouteHandler<typeof listCitiesRoute, AppEnv> = async (c) => {
  const rows = await listTenantCities(c.var.deps.database.db, c.var.tenant.id)
  return c.json({ items: rows.map(cityView) }, 200)
}
