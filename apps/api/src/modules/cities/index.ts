import { createRouter } from '../../platform/http/router.js'
import { requireTenant } from '../../platform/http/tenant.js'
import { listCities } from './cities.handlers.js'
import { listCitiesRoute } from './cities.routes.js'

export { type CityRow, findCityBySlug, findTenantCity } from './cities.queries.js'
export { CitySchema } from './cities.routes.js'
export { cityView } from './city-view.js'

export function citiesRouter() {
  const router = createRouter()
  router.use('/v1/cities', requireTenant)
  router.use('/v1/cities/*', requireTenant)
  return router.openapi(listCitiesRoute, listCities)
}
