import { createRouter } from '../../platform/http/router.js'
import { deleteMe, getExport, getJwks, getMe, postAccount, postRefresh } from './accounts.handlers.js'
import {
  createAccountRoute,
  deleteMeRoute,
  exportRoute,
  jwksRoute,
  meRoute,
  refreshRoute,
} from './accounts.routes.js'
import { deletionPageRouter } from './deletion-page.js'

export { deleteAccount, PURGE_JOB_TYPE } from './accounts.service.js'
export { purgeAccountHandler } from './purge-job.js'

/** Anonymous accounts, tokens, /v1/me (export, deletion) and the web deletion page. */
export function accountsRouter() {
  const router = createRouter()
    .openapi(createAccountRoute, postAccount)
    .openapi(refreshRoute, postRefresh)
    .openapi(jwksRoute, getJwks)
    .openapi(meRoute, getMe)
    .openapi(exportRoute, getExport)
    .openapi(deleteMeRoute, deleteMe)
  router.route('/', deletionPageRouter())
  return router
}
