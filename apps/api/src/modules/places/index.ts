import type { MiddlewareHandler } from 'hono'
import { compress } from 'hono/compress'
import type { AppEnv } from '../../platform/http/context.js'
import { createRouter } from '../../platform/http/router.js'
import { requireTenant } from '../../platform/http/tenant.js'
import { cityPoisGeojson, getCity, getPoi, listPois, nearby, searchPlaces } from './places.handlers.js'
import {
  cityDetailRoute,
  geojsonRoute,
  getPoiRoute,
  listPoisRoute,
  nearbyRoute,
  searchRoute,
} from './places.routes.js'

export { OSM_ATTRIBUTION, OSM_LICENSE } from './attribution.js'
export { etagMatches, tenantCityOr404 } from './places.service.js'

/** The cities router already resolves the tenant under /v1/cities/*: resolve it once per request. */
const tenant: MiddlewareHandler<AppEnv> = async (c, next) =>
  c.get('tenant') ? next() : requireTenant(c, next)

/** The public read API: city detail, POIs, "Nearby", search and map data, all scoped to the calling app. */
export function placesRouter() {
  const router = createRouter()
  for (const path of ['/v1/cities/*', '/v1/pois/*', '/v1/nearby', '/v1/search']) router.use(path, tenant)
  router.use('/v1/cities/:slug/pois.geojson', compress())
  return router
    .openapi(cityDetailRoute, getCity)
    .openapi(listPoisRoute, listPois)
    .openapi(geojsonRoute, cityPoisGeojson)
    .openapi(getPoiRoute, getPoi)
    .openapi(nearbyRoute, nearby)
    .openapi(searchRoute, searchPlaces)
}
