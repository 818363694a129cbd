import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { optionalAccount } from '../../platform/auth/index.js'
import { requireAdmin } from '../../platform/http/admin-auth.js'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { createRouter } from '../../platform/http/router.js'
import {
  enqueueContentImportHandler,
  listItemsHandler,
  listToursHandler,
  publishItemHandler,
  publishTourHandler,
  putItemHandler,
  putTourHandler,
  unpublishItemHandler,
  unpublishTourHandler,
  uploadMediaHandler,
} from './admin.handlers.js'
import {
  enqueueContentImportRoute,
  listItemsRoute,
  listToursRoute,
  publishItemRoute,
  publishTourRoute,
  putItemRoute,
  putTourRoute,
  unpublishItemRoute,
  unpublishTourRoute,
  uploadMediaRoute,
} from './admin.routes.js'
import { catalogHandler, mediaHandler, tourGeojsonHandler, tourHandler } from './catalog.handlers.js'
import { cityCatalogRoute, mediaRoute, tourGeojsonRoute, tourRoute } from './catalog.routes.js'

export { type Access, tourAccess } from './access.js'
export {
  type CatalogItemInput,
  publishCatalogItem,
  saveCatalogItem,
  unpublishCatalogItem,
} from './catalog.service.js'
export { contentCities, type ImportReport, importContent } from './content-import.js'
export {
  CONTENT_IMPORT_JOB_TYPE,
  createContentImportHandler,
  enqueueContentImport,
  enqueueContentImportsOnStart,
} from './content-import-job.js'
export { endEntitlement, grantEntitlement, ownedItemIds } from './entitlements.service.js'
export { storeMedia } from './media.service.js'
export { localMediaStore, type MediaStore } from './media-store.js'
export { publishTour, saveTourDraft, type TourDraftInput, unpublishTour } from './tours.service.js'

const uploadLimit: MiddlewareHandler<AppEnv> = (c, next) => {
  const { maxImageBytes, maxAudioBytes } = c.var.deps.config.content
  const maxSize = Math.max(maxImageBytes, maxAudioBytes)
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError('PAYLOAD_TOO_LARGE', `Файл больше ${maxSize} байт`)
    },
  })(c, next)
}

/** Catalog and tours: public reads scoped to the calling app, and the editors' admin surface. */
export function catalogRouter() {
  const router = createRouter()
  // The tenant from X-App-Key, and the account when a Bearer token is sent (it decides `owned`).
  router.use('/v1/tours/*', optionalAccount)
  router.use('/v1/media/*', optionalAccount)
  router.use('/v1/cities/:slug/catalog', optionalAccount)
  for (const p of [
    '/v1/admin/tours',
    '/v1/admin/tours/*',
    '/v1/admin/catalog',
    '/v1/admin/catalog/*',
    '/v1/admin/media',
    '/v1/admin/content/*',
  ])
    router.use(p, requireAdmin)
  router.use('/v1/admin/media', uploadLimit)
  router.openAPIRegistry.registerPath(tourGeojsonRoute)
  router.get('/v1/tours/:file{[1-9][0-9]{0,15}\\.geojson}', tourGeojsonHandler)
  return router
    .openapi(cityCatalogRoute, catalogHandler)
    .openapi(tourRoute, tourHandler)
    .openapi(mediaRoute, mediaHandler)
    .openapi(putTourRoute, putTourHandler)
    .openapi(listToursRoute, listToursHandler)
    .openapi(publishTourRoute, publishTourHandler)
    .openapi(unpublishTourRoute, unpublishTourHandler)
    .openapi(putItemRoute, putItemHandler)
    .openapi(listItemsRoute, listItemsHandler)
    .openapi(publishItemRoute, publishItemHandler)
    .openapi(unpublishItemRoute, unpublishItemHandler)
    .openapi(uploadMediaRoute, uploadMediaHandler)
    .openapi(enqueueContentImportRoute, enqueueContentImportHandler)
}
