import { requireAdmin } from '../../platform/http/admin-auth.js'
import { createRouter } from '../../platform/http/router.js'
import { enqueueHandler } from './ingestion.handlers.js'
import { enqueueHelpersRoute, enqueueOsmRoute } from './ingestion.routes.js'

export function ingestionRouter() {
  const router = createRouter()
  router.use('/v1/admin/ingestion/*', requireAdmin)
  return router
    .openapi(enqueueOsmRoute, enqueueHandler('osm'))
    .openapi(enqueueHelpersRoute, enqueueHandler('helpers'))
}
