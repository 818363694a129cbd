import { createHash, randomUUID } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { enterTenant, withTenant } from '../../platform/auth/index.js'
import { isUniqueViolation } from '../../platform/db/errors.js'
import type { DB } from '../../platform/db/schema.js'
import type { AppDeps, Tenant } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import type { JobQueue } from '../../platform/jobs/queue.js'
import { LedgerConflictError, type StateSource } from './ledger.service.js'
import { CLAIM_JOB_TYPE, recordRun } from './runs.js'
import { type Settlement, settleIn, UUID } from './settle.js'
import { StoreError, type StoreName, type StoreTransaction } from './stores/port.js'
import { appleOf, offerOf, rustoreOf } from './stores-of.js'

/**
 * Purchases, confirmed by the server only: the app announces an intent, buys in the store, and hands
 * over what the store gave it; the server asks the store (RuStore) or verifies the store's signature
 * (App Store) and only then records the transaction and grants. Nothing here trusts a price, a status
 * or a product the app claims.
 */

/** What purchases need: a request's deps, or a job's (its database handle, no HTTP). */
export type PurchaseDeps = Pick<AppDeps, 'config' | 'clock' | 'log'> & {
  database: { db: Kysely<DB> }
  jobs?: JobQueue | null | undefined
}

export type Proof =
  | { store: 'apple'; signedTransaction: string }
  | { store: 'rustore'; invoiceId: string; sandbox: boolean }

export type ConfirmOutcome =
  | { kind: 'confirmed'; entitlements: EntitlementView[]; transaction: TransactionView }
  | { kind: 'pending'; claimId: string; retryAfter: number }

export interface TransactionView {
  store: StoreName
  environment: 'production' | 'sandbox'
  store_transaction_id: string
  product_id: string | null
  status: StoreTransaction['status']
}

export interface EntitlementView {
  catalog_item_id: number
  slug: string
  kind: 'tour' | 'bundle'
  title_ru: string
  source: 'free' | 'grant' | 'purchase' | 'restore'
  granted_at: string
  store: StoreName | null
  environment: 'production' | 'sandbox' | null
}

// ---------------------------------------------------------------------------------------------
// Intents

export async function createIntent(
  deps: PurchaseDeps,
  tenant: Tenant,
  accountId: string,
  input: { catalogItemId: number; store: StoreName },
) {
  const { db } = deps.database
  // The store must be live for this app before anything is promised.
  if (input.store === 'apple') appleOf(deps.config, db, tenant)
  else rustoreOf(deps.config, db, tenant)
  const offer = await db
    .selectFrom('catalog_offer as o')
    .innerJoin('catalog_item as i', 'i.id', 'o.item_id')
    .select(['i.id', 'i.paid', 'o.apple_product_id', 'o.rustore_product_id'])
    .where('o.tenant_id', '=', tenant.id)
    .where('o.item_id', '=', input.catalogItemId)
    .where('i.status', '=', 'published')
    .executeTakeFirst()
  if (!offer)
    throw new AppError(
      'PURCHASE_NOT_OFFERED',
      `Позиция ${input.catalogItemId} не продаётся в этом приложении`,
    )
  if (!offer.paid) throw new AppError('PURCHASE_NOT_OFFERED', 'Эта позиция бесплатна: покупать её не нужно')
  const productId = input.store === 'apple' ? offer.apple_product_id : offer.rustore_product_id
  if (!productId) throw new AppError('PURCHASE_NOT_OFFERED', 'Эта позиция не продаётся в этом магазине')
  return withTenant(db, tenant.id, async (trx) => {
    const owned = await trx
      .selectFrom('entitlement')
      .select('id')
      .where('account_id', '=', accountId)
      .where('catalog_item_id', '=', input.catalogItemId)
      .where('ended_at', 'is', null)
      .executeTakeFirst()
    if (owned) throw new AppError('ALREADY_OWNED', 'Эта позиция уже куплена этим аккаунтом')
    // Asking again before buying finds the same open intent: one binding per item and store.
    const open = await trx
      .selectFrom('purchase_intent')
      .select('id')
      .where('account_id', '=', accountId)
      .where('catalog_item_id', '=', input.catalogItemId)
      .where('store', '=', input.store)
      .where('completed_at', 'is', null)
      .executeTakeFirst()
    const id = open?.id ?? randomUUID()
    if (!open)
      await trx
        .insertInto('purchase_intent')
        .values({
          id,
          tenant_id: tenant.id,
          account_id: accountId,
          catalog_item_id: input.catalogItemId,
          store: input.store,
          product_id: productId,
        })
        .execute()
    return {
      intent_id: id,
      catalog_item_id: input.catalogItemId,
      store: input.store,
      product_id: productId,
      app_account_token: id,
      order_id: id,
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Confirmation

/** Asks the store about a proof; a refusal becomes the app's 422, an unreachable store stays a StoreError. */
export async function verifyProof(
  deps: PurchaseDeps,
  tenant: Tenant,
  proof: Proof,
): Promise<StoreTransaction> {
  const { db } = deps.database
  try {
    return proof.store === 'apple'
      ? await appleOf(deps.config, db, tenant).verify(tenant.slug, {
          signedTransaction: proof.signedTransaction,
        })
      : await rustoreOf(deps.config, db, tenant).verify(tenant.slug, {
          invoiceId: proof.invoiceId,
          sandbox: proof.sandbox,
        })
  } catch (err) {
    if (err instanceof StoreError && !err.transient) throw refusal(err)
    throw err
  }
}

export async function confirmPurchase(
  deps: PurchaseDeps,
  tenant: Tenant,
  accountId: string,
  proof: Proof,
): Promise<ConfirmOutcome> {
  let tx: StoreTransaction
  try {
    tx = await verifyProof(deps, tenant, proof)
  } catch (err) {
    if (!(err instanceof StoreError)) throw err
    // Nothing is decided: the claim is kept and a job asks the store again; nothing is granted.
    const claim = await recordClaim(deps, tenant, accountId, proof)
    deps.log.warn(
      { store: proof.store, claim_id: claim, err: err.message },
      'store unreachable; claim recorded',
    )
    throw new AppError(
      'STORE_UNAVAILABLE',
      'Магазин сейчас недоступен. Покупка сохранена и будет проверена повторно; ничего не списано повторно.',
      undefined,
      { 'retry-after': String(deps.config.stores.retryAfterSeconds) },
    )
  }
  await settle(deps, tenant, accountId, tx, 'confirm')
  if (tx.status === 'pending') {
    const claimId = await recordClaim(deps, tenant, accountId, proof)
    return { kind: 'pending', claimId, retryAfter: deps.config.stores.retryAfterSeconds }
  }
  if (tx.status !== 'purchased') {
    await closeClaims(deps, tenant, accountId, proof, 'refused', refusedByStore(tx).message)
    throw refusedByStore(tx)
  }
  await closeClaims(deps, tenant, accountId, proof, 'confirmed', null)
  return {
    kind: 'confirmed',
    entitlements: await listEntitlements(deps, tenant, accountId),
    transaction: transactionView(tx),
  }
}

/**
 * Records what the store said for this account, with the entitlement change it implies, in one
 * transaction. For a confirmation the transaction must be bound to an intent of this account (or be
 * this account's already); a restore needs no intent, only the store's word.
 */
export async function settle(
  deps: PurchaseDeps,
  tenant: Tenant,
  accountId: string,
  tx: StoreTransaction,
  source: StateSource,
): Promise<Settlement> {
  const { db } = deps.database
  const known = await db
    .selectFrom('store_transactions')
    .select(['id', 'account_id'])
    .where('store', '=', tx.store)
    .where('environment', '=', tx.environment)
    .where('store_transaction_id', '=', tx.storeTransactionId)
    .executeTakeFirst()
  if (source !== 'restore' && known?.account_id && known.account_id !== accountId) throw claimedElsewhere()
  const intent =
    tx.bindingToken && UUID.test(tx.bindingToken)
      ? await withTenant(db, tenant.id, (trx) =>
          trx
            .selectFrom('purchase_intent')
            .select(['id', 'account_id', 'catalog_item_id', 'store'])
            .where('id', '=', tx.bindingToken!.toLowerCase())
            .where('store', '=', tx.store)
            .executeTakeFirst(),
        )
      : undefined
  const ownIntent = intent?.account_id === accountId ? intent : undefined
  if (source !== 'restore' && !ownIntent && known?.account_id !== accountId)
    throw new AppError(
      'PURCHASE_NOT_BOUND',
      'Покупка не связана с намерением этого аккаунта: начните покупку заново из приложения',
    )
  const byProduct = tx.productId ? await offerOf(db, tenant, tx.store, tx.productId) : undefined
  if (tx.productId && !byProduct)
    throw new AppError('PURCHASE_NOT_OFFERED', `Товар ${tx.productId} не продаётся в этом приложении`)
  const itemId = byProduct ? Number(byProduct.item_id) : intent ? Number(intent.catalog_item_id) : null
  if (ownIntent && itemId !== Number(ownIntent.catalog_item_id))
    throw new AppError('PURCHASE_NOT_BOUND', 'Оплачен другой товар, чем тот, что выбран в приложении')
  try {
    return await db.transaction().execute((trx) =>
      settleIn(trx, {
        tenantId: tenant.id,
        tx,
        accountId,
        catalogItemId: itemId,
        intentId: ownIntent?.id ?? null,
        source,
      }),
    )
  } catch (err) {
    if (err instanceof LedgerConflictError) throw claimedElsewhere()
    throw err
  }
}

function claimedElsewhere(): AppError {
  return new AppError('PURCHASE_ALREADY_CLAIMED', 'Эта покупка уже подтверждена другим аккаунтом')
}

/** The store's refusal in the app's words (422): never paid, cancelled, or paid and taken back. */
export function refusedByStore(tx: StoreTransaction): AppError {
  const detail: Record<string, string> = {
    failed: 'Магазин сообщил, что оплата не прошла',
    cancelled: 'Магазин сообщил, что покупка отменена',
    refunded: 'Магазин сообщил, что деньги за покупку возвращены',
    revoked: 'Магазин отозвал доступ к этой покупке',
  }
  return new AppError('PURCHASE_REFUSED', detail[tx.status] ?? 'Магазин не подтвердил покупку')
}

export function refusal(err: StoreError): AppError {
  switch (err.kind) {
    case 'not_configured':
      return new AppError('STORE_NOT_CONFIGURED', 'Магазин не подключён для этого приложения')
    case 'unknown_product':
      return new AppError('PURCHASE_NOT_OFFERED', 'Этот товар магазина не продаётся в этом приложении')
    case 'wrong_product_type':
      return new AppError('PURCHASE_NOT_OFFERED', 'Этот тип покупки здесь не продаётся')
    case 'binding_mismatch':
      return new AppError('PURCHASE_NOT_BOUND', 'Покупка связана с другим намерением')
    case 'wrong_app':
      return new AppError('PURCHASE_PROOF_INVALID', 'Покупка сделана в другом приложении')
    case 'wrong_environment':
      return new AppError('PURCHASE_PROOF_INVALID', 'Тестовые покупки здесь не принимаются')
    case 'not_found':
      return new AppError('PURCHASE_PROOF_INVALID', 'Магазин не знает такой покупки')
    default:
      return new AppError(
        'PURCHASE_PROOF_INVALID',
        'Магазин не подтверждает эту покупку: подпись или данные неверны',
      )
  }
}

function transactionView(tx: StoreTransaction): TransactionView {
  return {
    store: tx.store,
    environment: tx.environment,
    store_transaction_id: tx.storeTransactionId,
    product_id: tx.productId,
    status: tx.status,
  }
}

// ---------------------------------------------------------------------------------------------
// Claims: what the store has not decided yet

function proofRef(proof: Proof): string {
  if (proof.store === 'rustore') return `${proof.sandbox ? 'sandbox:' : ''}${proof.invoiceId}`
  // A JWS is long; its digest names it.
  return `jws:${createHash('sha256').update(proof.signedTransaction).digest('hex')}`
}

/**
 * Keeps an undecided confirmation with its proof and a run that asks the store again. Asking again
 * while it waits finds the same claim. Returns the claim id.
 */
export async function recordClaim(
  deps: PurchaseDeps,
  tenant: Tenant,
  accountId: string,
  proof: Proof,
): Promise<string> {
  const { db } = deps.database
  const ref = proofRef(proof)
  const waiting = () =>
    withTenant(db, tenant.id, (trx) =>
      trx
        .selectFrom('purchase_claim')
        .select('id')
        .where('account_id', '=', accountId)
        .where('store', '=', proof.store)
        .where('proof_ref', '=', ref)
        .where('state', '=', 'waiting')
        .executeTakeFirst(),
    )
  const existing = await waiting()
  if (existing) return String(existing.id)
  const today = deps.clock.now().toISOString().slice(0, 10)
  try {
    const created = await db.transaction().execute(async (trx) => {
      const runId = await recordRun(trx, deps, {
        type: CLAIM_JOB_TYPE,
        today,
        source: { kind: 'purchase_claim', tenant: tenant.slug },
      })
      await enterTenant(trx, tenant.id)
      const row = await trx
        .insertInto('purchase_claim')
        .values({
          tenant_id: tenant.id,
          account_id: accountId,
          store: proof.store,
          proof_ref: ref,
          proof: JSON.stringify(proof),
          run_id: runId,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      return { id: row.id, runId }
    })
    if (created.runId) await deps.jobs?.afterCommit(created.runId)
    return String(created.id)
  } catch (err) {
    // A concurrent confirmation of the same proof recorded it first.
    if (!isUniqueViolation(err)) throw err
    const winner = await waiting()
    if (!winner) throw err
    return String(winner.id)
  }
}

/** The app's own later confirmation decided what a claim was waiting for. */
async function closeClaims(
  deps: PurchaseDeps,
  tenant: Tenant,
  accountId: string,
  proof: Proof,
  state: 'confirmed' | 'refused',
  reason: string | null,
) {
  await withTenant(deps.database.db, tenant.id, (trx) =>
    trx
      .updateTable('purchase_claim')
      .set({ state, reason, settled_at: sql<Date>`now()` })
      .where('account_id', '=', accountId)
      .where('store', '=', proof.store)
      .where('proof_ref', '=', proofRef(proof))
      .where('state', '=', 'waiting')
      .execute(),
  )
}

// ---------------------------------------------------------------------------------------------
// Restore

export type RestoreOutcome = 'restored' | 'owned' | 'pending' | 'refused' | 'unavailable'

export interface RestoreResult {
  store: StoreName
  /** The store's transaction id when the proof was readable, else the input's position. */
  reference: string
  outcome: RestoreOutcome
  detail?: string
}

/** Re-grants to the calling account what the stores confirm (a new install, a new phone). */
export async function restorePurchases(
  deps: PurchaseDeps,
  tenant: Tenant,
  accountId: string,
  proofs: Proof[],
): Promise<{ results: RestoreResult[]; entitlements: EntitlementView[] }> {
  const results: RestoreResult[] = []
  for (const [i, proof] of proofs.entries()) {
    const fallback = proof.store === 'rustore' ? proof.invoiceId : `apple[${i}]`
    try {
      const tx = await verifyProof(deps, tenant, proof)
      const reference = tx.storeTransactionId
      if (tx.status === 'pending') {
        results.push({
          store: proof.store,
          reference,
          outcome: 'pending',
          detail: 'Магазин ещё обрабатывает оплату',
        })
        continue
      }
      const settled = await settle(deps, tenant, accountId, tx, 'restore')
      if (tx.status !== 'purchased') {
        results.push({
          store: proof.store,
          reference,
          outcome: 'refused',
          detail: refusedByStore(tx).message,
        })
        continue
      }
      results.push({ store: proof.store, reference, outcome: settled.granted ? 'restored' : 'owned' })
    } catch (err) {
      if (err instanceof StoreError)
        results.push({
          store: proof.store,
          reference: fallback,
          outcome: 'unavailable',
          detail: 'Магазин недоступен',
        })
      else if (err instanceof AppError && err.status < 500)
        results.push({ store: proof.store, reference: fallback, outcome: 'refused', detail: err.message })
      else throw err
    }
  }
  return { results, entitlements: await listEntitlements(deps, tenant, accountId) }
}

// ---------------------------------------------------------------------------------------------
// Entitlements

export async function listEntitlements(
  deps: Pick<PurchaseDeps, 'database'>,
  tenant: Tenant,
  accountId: string,
): Promise<EntitlementView[]> {
  const { db } = deps.database
  const rows = await withTenant(db, tenant.id, (trx) =>
    trx
      .selectFrom('entitlement as e')
      .leftJoin('store_transactions as t', 't.id', 'e.store_transaction_id')
      .select(['e.catalog_item_id', 'e.source', 'e.granted_at', 't.store', 't.environment'])
      .where('e.account_id', '=', accountId)
      .where('e.ended_at', 'is', null)
      .orderBy('e.granted_at')
      .orderBy('e.id')
      .execute(),
  )
  if (!rows.length) return []
  const items = await db
    .selectFrom('catalog_item')
    .select(['id', 'slug', 'kind', 'title_ru'])
    .where(
      'id',
      'in',
      rows.map((r) => r.catalog_item_id),
    )
    .execute()
  const byId = new Map(items.map((i) => [Number(i.id), i]))
  return rows.flatMap((r) => {
    const item = byId.get(Number(r.catalog_item_id))
    if (!item) return []
    return [
      {
        catalog_item_id: Number(r.catalog_item_id),
        slug: item.slug,
        kind: item.kind,
        title_ru: item.title_ru,
        source: r.source,
        granted_at: r.granted_at.toISOString(),
        store: r.store ?? null,
        environment: r.environment ?? null,
      },
    ]
  })
}

/** Sandbox and production purchases, counted apart (what App Review bought is not revenue). */
export async function ledgerSummary(deps: Pick<PurchaseDeps, 'database'>) {
  const { rows } = await sql<{
    tenant: string
    store: StoreName
    environment: 'production' | 'sandbox'
    status: StoreTransaction['status']
    transactions: number
  }>`
    SELECT t.slug AS tenant, s.store, s.environment, st.status, count(*)::int AS transactions
    FROM store_transactions s
    JOIN tenants t ON t.id = s.tenant_id
    JOIN LATERAL (SELECT status FROM store_transaction_states x WHERE x.transaction_id = s.id
                  ORDER BY x.id DESC LIMIT 1) st ON true
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`.execute(deps.database.db)
  return rows
}
