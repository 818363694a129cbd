import { createRouter } from '../../platform/http/router.js'
import { health } from './health.handlers.js'
import { healthRoute } from './health.routes.js'

export function healthRouter() {
  return createRouter().openapi(healthRoute, health)
}
