import { type Kysely, sql, type Transaction } from 'kysely'
import type { DB } from '../../platform/db/schema.js'
import { TransientJobError } from '../../platform/jobs/types.js'
import { StoreError, type StoreName, type StoreTransaction, type TransactionStatus } from './stores/port.js'

/**
 * The ledger: what the stores confirmed, one row per store transaction, and the statuses the store
 * reported over time, appended. Verification with the store happens before (outside any database
 * transaction); these functions only record its result.
 */

type Db = Kysely<DB> | Transaction<DB>
export type StateSource = 'confirm' | 'notification' | 'reconcile' | 'restore'

export interface LedgerEntry {
  id: string
  accountId: string | null
  status: TransactionStatus
  /** True when this call inserted the transaction (false: it was known already). */
  created: boolean
  /** True when this call appended a status (the store said something new). */
  statusChanged: boolean
}

/** The transaction is already claimed by another account: the caller answers 409. */
export class LedgerConflictError extends Error {
  constructor(readonly transactionId: string) {
    super('the store transaction is claimed by another account')
    this.name = 'LedgerConflictError'
  }
}

/**
 * Records a verified transaction for an account (null: not yet bound, e.g. a notification about a
 * purchase nobody confirmed yet). Concurrent calls for one transaction produce one row: the insert
 * is keyed by (store, environment, store transaction id) and the loser reads the winner's row under
 * a row lock. The same account again → the same entry; another account → LedgerConflictError.
 */
export async function recordTransaction(
  db: Kysely<DB>,
  tenantId: number,
  tx: StoreTransaction,
  accountId: string | null,
  source: StateSource,
): Promise<LedgerEntry> {
  return db.transaction().execute((trx) => recordIn(trx, tenantId, tx, accountId, source))
}

/**
 * `recordTransaction` inside the caller's transaction (so entitlements change in the same commit).
 * With `allowOtherOwner` (a restore) a row bound to another account is not a conflict: the ledger
 * keeps its first owner, and the entry says who that is.
 */
export async function recordIn(
  trx: Transaction<DB>,
  tenantId: number,
  tx: StoreTransaction,
  accountId: string | null,
  source: StateSource,
  opts: { allowOtherOwner?: boolean } = {},
): Promise<LedgerEntry> {
  const inserted = await trx
    .insertInto('store_transactions')
    .values({
      tenant_id: tenantId,
      store: tx.store,
      environment: tx.environment,
      store_transaction_id: tx.storeTransactionId,
      original_transaction_id: tx.originalTransactionId,
      product_id: tx.productId,
      binding_token: tx.bindingToken,
      account_id: accountId,
      purchased_at: tx.purchaseDate,
      raw: JSON.stringify(tx.raw ?? null),
    })
    .onConflict((oc) => oc.columns(['store', 'environment', 'store_transaction_id']).doNothing())
    .returning(['id', 'account_id', 'tenant_id'])
    .executeTakeFirst()
  const row =
    inserted ??
    (await trx
      .selectFrom('store_transactions')
      .select(['id', 'account_id', 'tenant_id'])
      .where('store', '=', tx.store)
      .where('environment', '=', tx.environment)
      .where('store_transaction_id', '=', tx.storeTransactionId)
      .forUpdate()
      .executeTakeFirstOrThrow())
  // A transaction of another tenant's app cannot reach here (the adapters check the app), but a
  // row is never shared across tenants whatever happens.
  if (row.tenant_id !== tenantId) throw new LedgerConflictError(row.id)
  if (accountId !== null && row.account_id !== null && row.account_id !== accountId && !opts.allowOtherOwner)
    throw new LedgerConflictError(row.id)
  let owner = row.account_id
  if (owner === null && accountId !== null) {
    // Recorded before anyone claimed it (a notification came first, or its owner was deleted): the
    // first confirmation binds it.
    await trx
      .updateTable('store_transactions')
      .set({ account_id: accountId })
      .where('id', '=', row.id)
      .execute()
    owner = accountId
  }
  const statusChanged = await appendStatus(trx, row.id, tx.status, source, tx.raw)
  return {
    id: row.id,
    accountId: owner,
    status: tx.status,
    created: inserted !== undefined,
    statusChanged,
  }
}

/** Appends a status when it differs from the latest one; returns whether it did. */
export async function appendStatus(
  db: Db,
  transactionId: string,
  status: TransactionStatus,
  source: StateSource,
  raw: unknown,
): Promise<boolean> {
  const latest = await latestStatus(db, transactionId)
  if (latest === status) return false
  await db
    .insertInto('store_transaction_states')
    .values({ transaction_id: transactionId, status, source, raw: JSON.stringify(raw ?? null) })
    .execute()
  return true
}

export async function latestStatus(db: Db, transactionId: string): Promise<TransactionStatus | null> {
  const row = await db
    .selectFrom('store_transaction_states')
    .select('status')
    .where('transaction_id', '=', transactionId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row?.status ?? null
}

/** Account deletion keeps the ledger (a legal record) and cuts the link to the person. */
export async function cutAccountLink(db: Db, accountId: string): Promise<number> {
  const res = await db
    .updateTable('store_transactions')
    .set({ account_id: null })
    .where('account_id', '=', accountId)
    .executeTakeFirst()
  return Number(res.numUpdatedRows)
}

/**
 * Stores a store notification once per store event id. A redelivery returns the first row's id with
 * `duplicate: true` and changes nothing.
 */
export async function receiveEvent(
  db: Db,
  event: { store: StoreName; externalEventId: string; tenantId: number | null; payload: unknown },
): Promise<{ id: string; duplicate: boolean }> {
  const inserted = await db
    .insertInto('store_events')
    .values({
      store: event.store,
      external_event_id: event.externalEventId,
      tenant_id: event.tenantId,
      payload: JSON.stringify(event.payload ?? null),
    })
    .onConflict((oc) => oc.columns(['store', 'external_event_id']).doNothing())
    .returning('id')
    .executeTakeFirst()
  if (inserted) return { id: inserted.id, duplicate: false }
  const existing = await db
    .selectFrom('store_events')
    .select('id')
    .where('store', '=', event.store)
    .where('external_event_id', '=', event.externalEventId)
    .executeTakeFirstOrThrow()
  return { id: existing.id, duplicate: true }
}

export type EventHandler = (
  event: { id: string; store: StoreName; tenantId: number | null; payload: unknown },
  trx: Transaction<DB>,
) => Promise<'processed' | 'ignored'>

/**
 * Claims one received event (the given one, or the oldest) for processing: SKIP LOCKED, so two
 * workers never take the same one, and a processed event is never taken again. `handle` runs inside
 * the claim's transaction and the outcome is written there too. A transient failure (the store
 * unreachable) is recorded and rethrown with the event still `received`, for the job to retry; any
 * other failure marks it `failed` with the reason. Returns null when there was nothing to take.
 */
export async function processEvent(
  db: Kysely<DB>,
  eventId: string | null,
  handle: EventHandler,
): Promise<'processed' | 'ignored' | 'failed' | null> {
  let transient: unknown = null
  const outcome = await db.transaction().execute(async (trx) => {
    let query = trx
      .selectFrom('store_events')
      .select(['id', 'store', 'tenant_id', 'payload', 'attempts'])
      .where('status', '=', 'received')
    if (eventId !== null) query = query.where('id', '=', eventId)
    const event = await query.orderBy('id').limit(1).forUpdate().skipLocked().executeTakeFirst()
    if (!event) return null
    // A savepoint keeps the claim usable when the handler's own statements fail.
    await sql`SAVEPOINT store_event`.execute(trx)
    try {
      const done = await handle(
        { id: event.id, store: event.store, tenantId: event.tenant_id, payload: event.payload },
        trx,
      )
      await sql`RELEASE SAVEPOINT store_event`.execute(trx)
      await trx
        .updateTable('store_events')
        .set({ status: done, processed_at: sql<Date>`now()`, attempts: event.attempts + 1, error: null })
        .where('id', '=', event.id)
        .execute()
      return done
    } catch (err) {
      await sql`ROLLBACK TO SAVEPOINT store_event`.execute(trx)
      const retry = isTransient(err)
      await trx
        .updateTable('store_events')
        .set({
          ...(retry ? {} : { status: 'failed' as const }),
          attempts: event.attempts + 1,
          error: (err as Error).message.slice(0, 500),
        })
        .where('id', '=', event.id)
        .execute()
      if (retry) transient = err
      return 'failed' as const
    }
  })
  if (transient) throw transient
  return outcome
}

/** Works through up to `limit` received events, oldest first (a backlog after an outage). */
export async function processEvents(
  db: Kysely<DB>,
  limit: number,
  handle: EventHandler,
): Promise<{ processed: number; ignored: number; failed: number }> {
  const counts = { processed: 0, ignored: 0, failed: 0 }
  for (let i = 0; i < limit; i++) {
    const outcome = await processEvent(db, null, handle)
    if (outcome === null) break
    counts[outcome]++
  }
  return counts
}

function isTransient(err: unknown): boolean {
  return (err instanceof StoreError && err.transient) || err instanceof TransientJobError
}
