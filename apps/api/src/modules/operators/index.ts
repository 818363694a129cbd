import { requireAdmin } from '../../platform/http/admin-auth.js'
import { createRouter } from '../../platform/http/router.js'
import { listActionsHandler, meHandler } from './operators.handlers.js'
import { listActionsRoute, meRoute } from './operators.routes.js'

/** Operators: who a token belongs to, and what operators changed (recorded by requireAdmin). */
export function operatorsRouter() {
  const router = createRouter()
  router.use('/v1/admin/me', requireAdmin)
  router.use('/v1/admin/actions', requireAdmin)
  return router.openapi(meRoute, meHandler).openapi(listActionsRoute, listActionsHandler)
}
