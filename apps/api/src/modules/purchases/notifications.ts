import { createDecipheriv } from 'node:crypto'
import { sql } from 'kysely'
import { AppError } from '../../platform/http/errors.js'
import { PermanentJobError, TransientJobError } from '../../platform/jobs/types.js'
import { processEvent, receiveEvent } from './ledger.service.js'
import type { PurchaseDeps } from './purchases.service.js'
import { EVENT_JOB_TYPE, recordRun } from './runs.js'
import { settleIn } from './settle.js'
import { StoreError, type StoreName, type StoreTransaction } from './stores/port.js'
import { appleOf, offerOf, rustoreOf, storesOf } from './stores-of.js'

/**
 * Store notifications: stored raw in the inbox (unique per store event id) and answered at once;
 * a `store_event` run per new event reads the store again and only then changes the ledger and the
 * entitlements. An unsigned or tampered body is refused (401) and stored nowhere.
 */

export interface Received {
  received: true
  duplicate: boolean
}

/** App Store Server Notifications V2: `{ signedPayload }`, verified like a transaction. */
export async function receiveApple(deps: PurchaseDeps, signedPayload: string): Promise<Received> {
  const apple = storesOf(deps.config, deps.database.db).apple
  if (!apple) throw new AppError('STORE_NOT_CONFIGURED', 'App Store не подключён')
  let notification: Awaited<ReturnType<typeof apple.verifyNotification>>
  try {
    notification = await apple.verifyNotification(signedPayload)
  } catch (err) {
    if (err instanceof StoreError && err.transient)
      throw new AppError('STORE_UNAVAILABLE', 'Проверка подписи сейчас невозможна', undefined, {
        'retry-after': String(deps.config.stores.retryAfterSeconds),
      })
    if (err instanceof StoreError)
      throw new AppError('SIGNATURE_INVALID', 'Подпись уведомления недействительна')
    throw err
  }
  const tenantId = await tenantIdOf(deps, notification.tenant)
  return inbox(deps, 'apple', notification.notificationUUID, tenantId, { signedPayload })
}

/** RuStore: `{ id, timestamp, payload }`, the payload AES-256-GCM under the console's key. */
export async function receiveRuStore(
  deps: PurchaseDeps,
  body: { id: string; timestamp?: string | undefined; payload: string },
): Promise<Received> {
  const key = deps.config.stores.rustore?.notificationKey
  if (!key) throw new AppError('STORE_NOT_CONFIGURED', 'Уведомления RuStore не подключены')
  const decrypted = decryptRuStore(body.payload, key)
  if (!decrypted) throw new AppError('SIGNATURE_INVALID', 'Уведомление не расшифровывается ключом RuStore')
  const appId = Number(decrypted.app_id)
  const tenant = Object.entries(deps.config.stores.rustore?.apps ?? {}).find(
    ([, a]) => a.appId === appId,
  )?.[0]
  const tenantId = tenant ? await tenantIdOf(deps, tenant) : null
  return inbox(deps, 'rustore', body.id, tenantId, decrypted)
}

/**
 * The payload is base64(IV[12] ‖ ciphertext ‖ tag[16]); the GCM tag authenticates it, so a wrong key
 * or a changed byte fails here. Returns null for anything that does not decrypt to a JSON object.
 */
export function decryptRuStore(payload: string, key: Buffer): Record<string, unknown> | null {
  try {
    const buf = Buffer.from(payload, 'base64')
    if (buf.length < 12 + 16 + 2) return null
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12))
    decipher.setAuthTag(buf.subarray(buf.length - 16))
    const text = Buffer.concat([
      decipher.update(buf.subarray(12, buf.length - 16)),
      decipher.final(),
    ]).toString('utf8')
    const parsed = JSON.parse(text) as unknown
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

async function tenantIdOf(deps: PurchaseDeps, slug: string): Promise<number | null> {
  const row = await deps.database.db
    .selectFrom('tenants')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirst()
  return row?.id ?? null
}

async function inbox(
  deps: PurchaseDeps,
  store: StoreName,
  externalEventId: string,
  tenantId: number | null,
  payload: unknown,
): Promise<Received> {
  const today = deps.clock.now().toISOString().slice(0, 10)
  const { duplicate, runId } = await deps.database.db.transaction().execute(async (trx) => {
    const event = await receiveEvent(trx, { store, externalEventId, tenantId, payload })
    if (event.duplicate) return { duplicate: true, runId: null }
    const runId = await recordRun(trx, deps, {
      type: EVENT_JOB_TYPE,
      ref: `${store}:${event.id}`,
      today,
      source: { kind: 'store_event', event_id: event.id },
    })
    return { duplicate: false, runId }
  })
  if (runId) await deps.jobs?.afterCommit(runId)
  return { received: true, duplicate }
}

type Decision =
  | { kind: 'ignore'; reason: string }
  | { kind: 'apply'; tenantId: number; tenant: string; tx: StoreTransaction }

/** What an event means, read again from the store (the App Store's signature, RuStore's API). */
async function decide(
  deps: PurchaseDeps,
  event: { store: StoreName; tenant_id: number | null; payload: unknown },
): Promise<Decision> {
  if (event.tenant_id === null) return { kind: 'ignore', reason: 'an app not configured here' }
  const tenant = await deps.database.db
    .selectFrom('tenants')
    .select(['id', 'slug'])
    .where('id', '=', event.tenant_id)
    .executeTakeFirstOrThrow()
  if (event.store === 'apple') {
    const { signedPayload } = event.payload as { signedPayload: string }
    const n = await appleOf(deps.config, deps.database.db, tenant).verifyNotification(signedPayload)
    // REFUND and REVOKE carry the revoked transaction, REFUND_REVERSED the restored one,
    // ONE_TIME_CHARGE a purchase: the transaction's own state says what to do.
    const meaningful = ['REFUND', 'REVOKE', 'REFUND_REVERSED', 'ONE_TIME_CHARGE']
    if (!meaningful.includes(n.notificationType) || !n.transaction)
      return { kind: 'ignore', reason: `${n.notificationType} changes no purchase` }
    return { kind: 'apply', tenantId: tenant.id, tenant: tenant.slug, tx: n.transaction }
  }
  const p = event.payload as { notification_type?: unknown; data?: unknown }
  const type = String(p.notification_type ?? '')
  if (type !== 'INVOICE_STATUS' && type !== 'INVOICE_STATUS_SANDBOX')
    return { kind: 'ignore', reason: `${type || 'an untyped notification'} changes no purchase` }
  const data = (typeof p.data === 'string' ? safeJson(p.data) : p.data) as { invoice_id?: unknown } | null
  const invoiceId = data?.invoice_id === undefined ? '' : String(data.invoice_id)
  if (!invoiceId) throw new PermanentJobError('EVENT_WITHOUT_INVOICE', 'the notification names no invoice')
  // Notifications only say that something changed: the invoice itself is the truth.
  const tx = await rustoreOf(deps.config, deps.database.db, tenant).verify(tenant.slug, {
    invoiceId,
    sandbox: type === 'INVOICE_STATUS_SANDBOX',
  })
  return { kind: 'apply', tenantId: tenant.id, tenant: tenant.slug, tx }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** The `store_event` job: one inbox event, processed once whatever the deliveries. */
export function storeEventHandler(deps: Omit<PurchaseDeps, 'database' | 'log'>) {
  return async (ctx: {
    run: { source: unknown }
    db: PurchaseDeps['database']['db']
    log: PurchaseDeps['log']
  }) => {
    const source = ctx.run.source as { kind?: string; event_id?: string }
    if (source.kind !== 'store_event' || !source.event_id)
      throw new PermanentJobError('BAD_EVENT_SOURCE', 'a store_event run names no event')
    const full: PurchaseDeps = { ...deps, database: { db: ctx.db }, log: ctx.log }
    const event = await ctx.db
      .selectFrom('store_events')
      .select(['id', 'store', 'tenant_id', 'payload', 'status'])
      .where('id', '=', source.event_id)
      .executeTakeFirst()
    if (!event)
      throw new PermanentJobError('EVENT_NOT_FOUND', `store event ${source.event_id} does not exist`)
    if (event.status !== 'received')
      return { status: 'succeeded' as const, stats: { event_id: event.id, outcome: event.status } }
    let decision: Decision | Error
    try {
      // Outside any database transaction: the store is asked before anything is locked.
      decision = await decide(full, event)
    } catch (err) {
      if (err instanceof StoreError && err.transient)
        throw new TransientJobError('STORE_UNREACHABLE', err.message, { cause: err })
      decision = err as Error
    }
    const outcome = await processEvent(ctx.db, event.id, async (_e, trx) => {
      if (decision instanceof Error) throw decision
      if (decision.kind === 'ignore') return 'ignored'
      const { tx } = decision
      const item = tx.productId
        ? await offerOf(trx, { slug: decision.tenant }, tx.store, tx.productId)
        : undefined
      const settled = await settleIn(trx, {
        tenantId: decision.tenantId,
        tx,
        accountId: null,
        catalogItemId: item ? Number(item.item_id) : null,
        intentId: null,
        source: 'notification',
      })
      // Back to the worker's own role for the inbox's bookkeeping.
      await sql`RESET ROLE`.execute(trx)
      ctx.log.info(
        { event_id: event.id, status: tx.status, granted: settled.granted, ended: settled.ended },
        'store event applied',
      )
      return 'processed'
    })
    return {
      status: 'succeeded' as const,
      stats: {
        event_id: event.id,
        outcome: outcome ?? 'taken by another worker',
        ...(decision instanceof Error ? { error: decision.message } : {}),
        ...(decision instanceof Error || decision.kind !== 'ignore' ? {} : { reason: decision.reason }),
      },
    }
  }
}
