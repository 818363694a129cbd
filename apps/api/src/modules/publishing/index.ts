import { requireAdmin } from '../../platform/http/admin-auth.js'
import { createRouter } from '../../platform/http/router.js'
import {
  enqueuePublishHandler,
  listStagingHandler,
  rejectHandler,
  restoreHandler,
} from './publishing.handlers.js'
import { enqueuePublishRoute, listStagingRoute, rejectRoute, restoreRoute } from './publishing.routes.js'

export {
  ALLOWED_LICENSES,
  type CityArea,
  cityArea,
  evaluateGates,
  GATE_NAMES,
  type GateName,
  type GateResults,
  inCityGate,
} from './gates.js'
export { createPublishHandler, type PublishStats } from './publish-job.js'
export { enqueuePublish } from './publishing.service.js'

export function publishingRouter() {
  const router = createRouter()
  router.use('/v1/admin/publishing/*', requireAdmin)
  router.use('/v1/admin/staging', requireAdmin)
  router.use('/v1/admin/staging/*', requireAdmin)
  return router
    .openapi(enqueuePublishRoute, enqueuePublishHandler)
    .openapi(listStagingRoute, listStagingHandler)
    .openapi(rejectRoute, rejectHandler)
    .openapi(restoreRoute, restoreHandler)
}
