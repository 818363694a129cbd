import { sign } from 'node:crypto'
import {
  checkBinding,
  type ProductLookup,
  type StoreAdapter,
  StoreError,
  type StoreTransaction,
  type TransactionStatus,
} from './port.js'

/**
 * RuStore Pay: the server asks RuStore's public API for the invoice (`GET /public/v2/purchase/{id}`,
 * the sandbox path for test payments) with a `Public-Token` it obtained by signing keyId + timestamp
 * with the company's RSA key (SHA512withRSA). The token is reused for its TTL and fetched again once
 * when RuStore says it expired. Whatever RuStore says is checked against the tenant's app id.
 */

export interface RuStoreOptions {
  apiUrl: string
  keyId: string
  privateKeyPem: string
  apps: Record<string, { appId: number }>
  timeoutMs: number
  /** `Z` or `+03:00`: the offset written into the signed timestamp (RuStore's examples use +03:00). */
  timestampOffset: string
  acceptSandbox: boolean
  isKnownProduct: ProductLookup
  now?: () => Date
}

export interface RuStoreProof {
  invoiceId: string
  /** The Pay SDK's `sandbox` flag: test payments live under the sandbox path only. */
  sandbox?: boolean
}

export interface RuStoreStore extends StoreAdapter<RuStoreProof> {
  /** Forgets the cached token (tests, key rotation). */
  resetToken(): void
}

const STATUSES: Record<string, TransactionStatus> = {
  confirmed: 'purchased',
  created: 'pending',
  invoice_created: 'pending',
  executed: 'pending',
  executing: 'pending',
  processing: 'pending',
  // PAID is a two-step hold awaiting the developer's confirmation; products here are one-step
  // non-consumables, so a hold is never granted: it stays pending until RuStore settles it.
  paid: 'pending',
  refunding: 'pending',
  cancelled: 'cancelled',
  // REVERSED: the hold was released and the money returned, so it was never finally paid.
  reversed: 'cancelled',
  rejected: 'failed',
  expired: 'failed',
  refunded: 'refunded',
}

/** Refresh a little before RuStore's TTL ends so a token never expires in flight. */
const TOKEN_MARGIN_MS = 30_000
const INVOICE_ID = /^[0-9A-Za-z_-]{1,64}$/

interface Envelope {
  code?: unknown
  message?: unknown
  body?: unknown
}

export function createRuStoreStore(options: RuStoreOptions): RuStoreStore {
  const now = options.now ?? (() => new Date())
  let token: { jwe: string; expiresAt: number } | null = null
  let inflight: Promise<string> | null = null

  async function call(
    path: string,
    init: RequestInit,
  ): Promise<{ status: number; envelope: Envelope | null }> {
    let res: Response
    try {
      res = await fetch(`${options.apiUrl}${path}`, {
        ...init,
        headers: { accept: 'application/json', ...init.headers },
        signal: AbortSignal.timeout(options.timeoutMs),
      })
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError'
      throw new StoreError(
        'rustore',
        'unreachable',
        timedOut ? 'RuStore did not answer in time' : 'RuStore is unreachable',
        {
          cause: err,
        },
      )
    }
    let envelope: Envelope | null = null
    try {
      const text = await res.text()
      const parsed = JSON.parse(text) as unknown
      if (parsed && typeof parsed === 'object') envelope = parsed as Envelope
    } catch {
      envelope = null
    }
    return { status: res.status, envelope }
  }

  async function authenticate(): Promise<string> {
    const timestamp = formatTimestamp(now(), options.timestampOffset)
    const signature = sign('sha512', Buffer.from(options.keyId + timestamp), options.privateKeyPem).toString(
      'base64',
    )
    const { status, envelope } = await call('/public/auth/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keyId: options.keyId, timestamp, signature }),
    })
    const body = envelope?.body as { jwe?: unknown; ttl?: unknown } | undefined
    if (status !== 200 || envelope?.code !== 'OK' || typeof body?.jwe !== 'string') {
      // A refused key or a clock out of RuStore's window is an operator's problem, and nothing is
      // decided about the purchase: the claim waits and is retried.
      throw new StoreError(
        'rustore',
        'unreachable',
        `RuStore refused the API key (${status} ${messageOf(envelope)})`,
      )
    }
    const ttlMs = (typeof body.ttl === 'number' && body.ttl > 0 ? body.ttl : 900) * 1000
    token = { jwe: body.jwe, expiresAt: now().getTime() + Math.max(ttlMs - TOKEN_MARGIN_MS, ttlMs / 2) }
    return body.jwe
  }

  function currentToken(): Promise<string> {
    if (token && now().getTime() < token.expiresAt) return Promise.resolve(token.jwe)
    // Concurrent confirmations share one token request.
    inflight ??= authenticate().finally(() => {
      inflight = null
    })
    return inflight
  }

  async function readInvoice(invoiceId: string, sandbox: boolean): Promise<Envelope> {
    const path = `/public/${sandbox ? 'sandbox/' : ''}v2/purchase/${encodeURIComponent(invoiceId)}`
    for (let attempt = 0; ; attempt++) {
      const jwe = await currentToken()
      const { status, envelope } = await call(path, { method: 'GET', headers: { 'Public-Token': jwe } })
      const expired = status === 401 || (envelope?.code === 'ERROR' && /expired/i.test(messageOf(envelope)))
      if (expired) {
        if (token?.jwe === jwe) token = null
        if (attempt === 0) continue
        throw new StoreError('rustore', 'unreachable', 'RuStore refused a fresh token')
      }
      if (status === 404 || envelope?.code === 'NOT_FOUND')
        throw new StoreError('rustore', 'not_found', `invoice ${invoiceId} is unknown to RuStore`)
      if (status === 400 || envelope?.code === 'BAD_REQUEST')
        throw new StoreError('rustore', 'invalid_proof', `RuStore rejected invoice ${invoiceId}`)
      if (status !== 200 || envelope?.code !== 'OK' || !envelope.body || typeof envelope.body !== 'object')
        throw new StoreError('rustore', 'unreachable', `RuStore answered ${status} ${messageOf(envelope)}`)
      return envelope
    }
  }

  return {
    store: 'rustore',

    resetToken() {
      token = null
    },

    async verify(tenant, { invoiceId, sandbox = false, expectedBinding }) {
      const app = options.apps[tenant]
      if (!app)
        throw new StoreError('rustore', 'not_configured', `no RuStore app configured for tenant ${tenant}`)
      if (typeof invoiceId !== 'string' || !INVOICE_ID.test(invoiceId))
        throw new StoreError('rustore', 'invalid_proof', 'not a RuStore invoice id')
      if (sandbox && !options.acceptSandbox)
        throw new StoreError('rustore', 'wrong_environment', 'sandbox payments are not accepted')
      const envelope = await readInvoice(invoiceId, sandbox)
      const body = envelope.body as Record<string, unknown>
      const order = (body.order && typeof body.order === 'object' ? body.order : {}) as Record<
        string,
        unknown
      >
      if (String(body.invoiceId ?? '') !== invoiceId)
        throw new StoreError('rustore', 'unreachable', 'RuStore answered for another invoice')
      if (Number(body.appId) !== app.appId)
        throw new StoreError('rustore', 'wrong_app', `invoice ${invoiceId} belongs to another RuStore app`)
      const rawStatus = typeof body.invoiceStatus === 'string' ? body.invoiceStatus.toLowerCase() : ''
      const status = STATUSES[rawStatus]
      // An unknown status decides nothing: the claim waits instead of being granted or refused.
      if (!status)
        throw new StoreError('rustore', 'unreachable', `unknown invoice status ${rawStatus || '(none)'}`)
      const productId = firstString(body.productId, order.productId, body.productCode, order.productCode)
      if (productId !== null && !(await options.isKnownProduct(tenant, 'rustore', productId)))
        throw new StoreError('rustore', 'unknown_product', `product ${productId} is not offered by ${tenant}`)
      const orderId = firstString(body.orderId, order.orderId)
      const developerPayload = firstString(body.developerPayload)
      checkBinding('rustore', expectedBinding, [orderId, developerPayload])
      const paymentInfo = (body.paymentInfo ?? {}) as Record<string, unknown>
      const date = firstString(paymentInfo.paymentDate, body.invoiceDate)
      const tx: StoreTransaction = {
        store: 'rustore',
        tenant,
        environment: sandbox ? 'sandbox' : 'production',
        storeTransactionId: invoiceId,
        originalTransactionId: firstString(body.purchaseId, order.purchaseId) ?? invoiceId,
        productId,
        purchaseDate: date && !Number.isNaN(Date.parse(date)) ? new Date(date) : null,
        status,
        bindingToken: orderId ?? developerPayload,
        raw: body,
      }
      return tx
    },
  }
}

function messageOf(envelope: Envelope | null): string {
  return typeof envelope?.message === 'string' ? envelope.message.slice(0, 200) : ''
}

function firstString(...values: unknown[]): string | null {
  for (const v of values) {
    if (typeof v === 'string' && v !== '') return v
    if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  }
  return null
}

/** ISO-8601 with milliseconds and the given offset, e.g. 2024-06-18T11:49:08.290+03:00. */
export function formatTimestamp(date: Date, offset: string): string {
  if (offset === 'Z') return date.toISOString()
  const sign = offset.startsWith('-') ? -1 : 1
  const [h, m] = offset.slice(1).split(':').map(Number) as [number, number]
  const shifted = new Date(date.getTime() + sign * (h * 60 + m) * 60_000)
  return `${shifted.toISOString().slice(0, -1)}${offset}`
}
