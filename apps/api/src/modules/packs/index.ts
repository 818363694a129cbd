import { optionalAccount } from '../../platform/auth/index.js'
import { createRouter } from '../../platform/http/router.js'
import {
  blobHandler,
  changesHandler,
  keysHandler,
  manifestHandler,
  onboardingHandler,
} from './packs.handlers.js'
import { blobRoute, changesRoute, keysRoute, manifestRoute, onboardingRoute } from './packs.routes.js'

export { buildCityPack } from './pack-build.js'
export { thenBuildPack } from './pack-job.js'

/** Offline city packs: signed manifests, content-addressed blobs, changesets, onboarding. */
export function packsRouter() {
  const router = createRouter()
  // The tenant from X-App-Key, and the account when a Bearer token is sent (it decides paid tours).
  router.use('/v1/cities/:slug/pack.json', optionalAccount)
  router.use('/v1/cities/:slug/pack/changes', optionalAccount)
  router.use('/v1/blobs/*', optionalAccount)
  return router
    .openapi(manifestRoute, manifestHandler)
    .openapi(changesRoute, changesHandler)
    .openapi(keysRoute, keysHandler)
    .openapi(blobRoute, blobHandler)
    .openapi(onboardingRoute, onboardingHandler)
}
