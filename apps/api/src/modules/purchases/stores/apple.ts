import {
  Environment,
  type JWSTransactionDecodedPayload,
  SignedDataVerifier,
  VerificationException,
  VerificationStatus,
} from '@apple/app-store-server-library'
import {
  checkBinding,
  type ProductLookup,
  type StoreAdapter,
  type StoreEnvironment,
  StoreError,
  type StoreTransaction,
} from './port.js'

/**
 * App Store: StoreKit 2 signed transactions (`jwsRepresentation`) and App Store Server Notifications
 * V2 `signedPayload`, verified offline by Apple's own `SignedDataVerifier` against the configured
 * roots. The library checks the chain (three certificates, Apple's marker OIDs, our roots only), the
 * ES256 signature, bundle id and environment (and appAppleId on production notifications); the rest
 * (alg, product, type, revocation, binding) is checked here.
 */

export interface AppleStoreOptions {
  rootCertificates: Buffer[]
  apps: Record<string, { bundleId: string; appAppleId: number }>
  onlineChecks: boolean
  acceptSandbox: boolean
  isKnownProduct: ProductLookup
}

export interface AppleNotification {
  tenant: string
  environment: StoreEnvironment
  notificationType: string
  subtype: string | null
  /** Apple's event id: the inbox is unique on it. */
  notificationUUID: string
  signedDate: Date | null
  /** The transaction the event is about, verified like a client's one; null for TEST and the like. */
  transaction: StoreTransaction | null
  raw: unknown
}

export interface AppleStore extends StoreAdapter<{ signedTransaction: string }> {
  verifyNotification(signedPayload: string): Promise<AppleNotification>
}

/** Real App Store JWS are a few kilobytes (three certificates); anything far larger is not one. */
const MAX_JWS_LENGTH = 32 * 1024
const ENVIRONMENTS: Record<string, StoreEnvironment> = { Production: 'production', Sandbox: 'sandbox' }

export function createAppleStore(options: AppleStoreOptions): AppleStore {
  const verifiers = new Map<string, SignedDataVerifier>()

  function verifierFor(tenant: string, environment: StoreEnvironment): SignedDataVerifier {
    const app = options.apps[tenant]
    if (!app)
      throw new StoreError('apple', 'not_configured', `no App Store app configured for tenant ${tenant}`)
    if (environment === 'sandbox' && !options.acceptSandbox)
      throw new StoreError('apple', 'wrong_environment', 'sandbox transactions are not accepted')
    const key = `${tenant}|${environment}`
    let verifier = verifiers.get(key)
    if (!verifier) {
      // Only Production and Sandbox exist here: Xcode/LocalTesting skip the signature check entirely.
      verifier = new SignedDataVerifier(
        options.rootCertificates,
        options.onlineChecks,
        environment === 'production' ? Environment.PRODUCTION : Environment.SANDBOX,
        app.bundleId,
        app.appAppleId,
      )
      verifiers.set(key, verifier)
    }
    return verifier
  }

  async function toTransaction(
    tenant: string,
    verifier: SignedDataVerifier,
    jws: string,
    checkProduct: boolean,
  ): Promise<StoreTransaction> {
    const tx = await verified(() => verifier.verifyAndDecodeTransaction(jws))
    if (!tx.transactionId || !tx.productId || !tx.environment)
      throw new StoreError('apple', 'invalid_proof', 'the transaction lacks its id, product or environment')
    if (tx.type !== 'Non-Consumable')
      throw new StoreError('apple', 'wrong_product_type', `product type ${tx.type} is not sold here`)
    if (checkProduct && !(await options.isKnownProduct(tenant, 'apple', tx.productId)))
      throw new StoreError('apple', 'unknown_product', `product ${tx.productId} is not offered by ${tenant}`)
    return {
      store: 'apple',
      tenant,
      environment: ENVIRONMENTS[tx.environment] ?? 'production',
      storeTransactionId: tx.transactionId,
      originalTransactionId: tx.originalTransactionId ?? tx.transactionId,
      productId: tx.productId,
      purchaseDate: typeof tx.purchaseDate === 'number' ? new Date(tx.purchaseDate) : null,
      status: statusOf(tx),
      bindingToken: tx.appAccountToken ?? null,
      raw: tx,
    }
  }

  return {
    store: 'apple',

    async verify(tenant, { signedTransaction, expectedBinding }) {
      const { payload } = peek(signedTransaction)
      const environment = environmentOf(payload.environment)
      const tx = await toTransaction(tenant, verifierFor(tenant, environment), signedTransaction, true)
      checkBinding('apple', expectedBinding, [tx.bindingToken])
      return tx
    },

    async verifyNotification(signedPayload) {
      const { payload } = peek(signedPayload)
      const data = (payload.data ?? {}) as { bundleId?: unknown; environment?: unknown }
      // The notification URL is shared by the tenants: the bundle id picks the verifier, which then
      // checks that same bundle id (and appAppleId in production) under the signature.
      const tenant = Object.entries(options.apps).find(([, app]) => app.bundleId === data.bundleId)?.[0]
      if (!tenant)
        throw new StoreError('apple', 'wrong_app', 'the notification is for an app not configured here')
      const environment = environmentOf(data.environment)
      const verifier = verifierFor(tenant, environment)
      const decoded = await verified(() => verifier.verifyAndDecodeNotification(signedPayload))
      if (!decoded.notificationUUID || !decoded.notificationType)
        throw new StoreError('apple', 'invalid_proof', 'the notification lacks its id or type')
      const signedTransaction = decoded.data?.signedTransactionInfo
      return {
        tenant,
        environment,
        notificationType: String(decoded.notificationType),
        subtype: decoded.subtype ? String(decoded.subtype) : null,
        notificationUUID: decoded.notificationUUID,
        signedDate: typeof decoded.signedDate === 'number' ? new Date(decoded.signedDate) : null,
        transaction: signedTransaction
          ? await toTransaction(tenant, verifier, signedTransaction, false)
          : null,
        raw: decoded,
      }
    },
  }
}

function statusOf(tx: JWSTransactionDecodedPayload): StoreTransaction['status'] {
  if (tx.revocationDate === undefined || tx.revocationDate === null) return 'purchased'
  // FAMILY_REVOKE takes access from a family member; every other revocation is a refund.
  return tx.revocationType === 'FAMILY_REVOKE' ? 'revoked' : 'refunded'
}

function environmentOf(value: unknown): StoreEnvironment {
  const env = typeof value === 'string' ? ENVIRONMENTS[value] : undefined
  if (!env) throw new StoreError('apple', 'wrong_environment', `environment ${String(value)} is not accepted`)
  return env
}

/**
 * Reads header and payload WITHOUT trusting them: only to refuse what is not a compact ES256 JWS
 * before any work, and to pick the verifier (tenant, environment) that then checks everything.
 */
function peek(jws: string): { payload: Record<string, unknown> } {
  if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH)
    throw new StoreError('apple', 'invalid_proof', 'not an App Store signed value')
  const parts = jws.split('.')
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
    throw new StoreError('apple', 'invalid_proof', 'not a compact JWS')
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: unknown }
    if (header.alg !== 'ES256')
      throw new StoreError('apple', 'invalid_proof', `alg ${String(header.alg)} is refused`)
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown
    if (!payload || typeof payload !== 'object' || Array.isArray(payload))
      throw new StoreError('apple', 'invalid_proof', 'the payload is not an object')
    return { payload: payload as Record<string, unknown> }
  } catch (err) {
    if (err instanceof StoreError) throw err
    throw new StoreError('apple', 'invalid_proof', 'the JWS header or payload is not JSON', { cause: err })
  }
}

async function verified<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (!(err instanceof VerificationException)) throw err
    const status = VerificationStatus[err.status]
    switch (err.status) {
      case VerificationStatus.INVALID_APP_IDENTIFIER:
        throw new StoreError('apple', 'wrong_app', 'signed for another app', { cause: err })
      case VerificationStatus.INVALID_ENVIRONMENT:
        throw new StoreError('apple', 'wrong_environment', 'signed for another environment', { cause: err })
      case VerificationStatus.RETRYABLE_VERIFICATION_FAILURE:
        // Online checks (OCSP) could not reach Apple: nothing is decided, try again later.
        throw new StoreError('apple', 'unreachable', 'certificate status could not be checked', {
          cause: err,
        })
      default:
        throw new StoreError('apple', 'invalid_proof', `verification failed (${status})`, { cause: err })
    }
  }
}
