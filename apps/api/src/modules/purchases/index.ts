import type { Config, StoresConfig } from '../../config.js'
import type { Clock } from '../../platform/clock.js'
import { createRouter } from '../../platform/http/router.js'
import type { JobHandlers } from '../../platform/jobs/types.js'
import { purchaseClaimHandler } from './claim-job.js'
import { storeEventHandler } from './notifications.js'
import {
  getEntitlements,
  getLedgerSummary,
  postApple,
  postAppleNotification,
  postIntent,
  postRestore,
  postRuStore,
  postRuStoreNotification,
} from './purchases.handlers.js'
import {
  appleConfirmRoute,
  appleNotificationRoute,
  entitlementsRoute,
  intentRoute,
  ledgerSummaryRoute,
  restoreRoute,
  rustoreConfirmRoute,
  rustoreNotificationRoute,
} from './purchases.routes.js'
import { CLAIM_JOB_TYPE, EVENT_JOB_TYPE } from './runs.js'
import { type AppleStore, createAppleStore } from './stores/apple.js'
import type { ProductLookup } from './stores/port.js'
import { createRuStoreStore, type RuStoreStore } from './stores/rustore.js'

export {
  appendStatus,
  cutAccountLink,
  LedgerConflictError,
  type LedgerEntry,
  latestStatus,
  processEvents,
  receiveEvent,
  recordTransaction,
} from './ledger.service.js'
export type { AppleNotification, AppleStore } from './stores/apple.js'
export {
  type ProductLookup,
  type StoreEnvironment,
  StoreError,
  type StoreErrorKind,
  type StoreName,
  type StoreTransaction,
  type TransactionStatus,
} from './stores/port.js'
export type { RuStoreStore } from './stores/rustore.js'

export interface Stores {
  apple: AppleStore | null
  rustore: RuStoreStore | null
}

/** The configured store adapters (null: that store is disabled); the catalog supplies the product lookup. */
export function createStores(config: StoresConfig, isKnownProduct: ProductLookup): Stores {
  return {
    apple: config.apple
      ? createAppleStore({ ...config.apple, acceptSandbox: config.acceptSandbox, isKnownProduct })
      : null,
    rustore: config.rustore
      ? createRuStoreStore({ ...config.rustore, acceptSandbox: config.acceptSandbox, isKnownProduct })
      : null,
  }
}

export { CLAIM_JOB_TYPE, EVENT_JOB_TYPE } from './runs.js'

/** Intents, confirmations, restore, entitlements, store notifications, the ledger summary. */
export function purchasesRouter() {
  return createRouter()
    .openapi(intentRoute, postIntent)
    .openapi(appleConfirmRoute, postApple)
    .openapi(rustoreConfirmRoute, postRuStore)
    .openapi(restoreRoute, postRestore)
    .openapi(entitlementsRoute, getEntitlements)
    .openapi(appleNotificationRoute, postAppleNotification)
    .openapi(rustoreNotificationRoute, postRuStoreNotification)
    .openapi(ledgerSummaryRoute, getLedgerSummary)
}

/** The purchase job types: ask a store again about a claim; process one store notification. */
export function createPurchaseHandlers(opts: {
  config: Config
  clock: Clock
  jobs: () => import('../../platform/jobs/queue.js').JobQueue | null
}): JobHandlers {
  const deps = () => ({ config: opts.config, clock: opts.clock, jobs: opts.jobs() })
  return {
    [CLAIM_JOB_TYPE]: (ctx) => purchaseClaimHandler(deps())(ctx),
    [EVENT_JOB_TYPE]: (ctx) => storeEventHandler(deps())(ctx),
  }
}
