import type { StoresConfig } from '../../config.js'
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
