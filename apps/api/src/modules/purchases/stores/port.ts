/**
 * The store port: every store turns what the app handed over (a signed transaction, an invoice id)
 * into one normalised transaction, checked against the tenant's app in that store. A third store is a
 * third adapter returning the same shape; nothing downstream knows which store it came from.
 */

export type StoreName = 'apple' | 'rustore'
export type StoreEnvironment = 'production' | 'sandbox'

/**
 * purchased: money taken, grant allowed. pending: the store is still working (retry later).
 * failed / cancelled: never paid. refunded / revoked: paid once, taken back (ends an entitlement).
 */
export const TRANSACTION_STATUSES = [
  'purchased',
  'pending',
  'failed',
  'cancelled',
  'refunded',
  'revoked',
] as const
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number]

export interface StoreTransaction {
  store: StoreName
  tenant: string
  environment: StoreEnvironment
  /** Ledger key together with store and environment (Apple transactionId, RuStore invoiceId). */
  storeTransactionId: string
  /** Apple originalTransactionId (restores issue new ids for one purchase); RuStore purchaseId or the invoice. */
  originalTransactionId: string
  /** Null when the store's answer does not carry it (RuStore v2 may not); binding covers it then. */
  productId: string | null
  purchaseDate: Date | null
  status: TransactionStatus
  /** What binds the transaction to our intent: Apple appAccountToken, RuStore orderId / developerPayload. */
  bindingToken: string | null
  /** The store's answer as received (decoded), kept for audit. */
  raw: unknown
}

/** Whether a tenant sells this store product; the catalog answers it, the adapters only ask. */
export type ProductLookup = (
  tenant: string,
  store: StoreName,
  productId: string,
) => Promise<boolean> | boolean

export type StoreErrorKind =
  /** Signature, chain, shape: the proof is not the store's. */
  | 'invalid_proof'
  /** Signed by the store, but for another app (bundle id, app id, appAppleId). */
  | 'wrong_app'
  /** An environment this deployment does not accept (sandbox refused, or mismatch). */
  | 'wrong_environment'
  | 'unknown_product'
  /** Not a one-time (non-consumable) product. */
  | 'wrong_product_type'
  /** The transaction belongs to another intent. */
  | 'binding_mismatch'
  | 'not_found'
  /** The tenant has no app configured in this store. */
  | 'not_configured'
  /** The store could not be reached or answered something we cannot read: retry later. */
  | 'unreachable'

const TRANSIENT: ReadonlySet<StoreErrorKind> = new Set(['unreachable'])

export class StoreError extends Error {
  readonly transient: boolean
  constructor(
    readonly store: StoreName,
    readonly kind: StoreErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'StoreError'
    this.transient = TRANSIENT.has(kind)
  }
}

/** What every adapter offers: verify a proof for a tenant. `expectedBinding` is the intent's token. */
export interface StoreAdapter<Proof> {
  readonly store: StoreName
  verify(tenant: string, proof: Proof & { expectedBinding?: string }): Promise<StoreTransaction>
}

export function checkBinding(
  store: StoreName,
  expected: string | undefined,
  actual: (string | null)[],
): void {
  if (expected === undefined) return
  if (!actual.some((a) => a !== null && a === expected))
    throw new StoreError(store, 'binding_mismatch', 'the transaction is bound to another intent')
}
