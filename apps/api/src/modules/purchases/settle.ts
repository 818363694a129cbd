import { sql, type Transaction } from 'kysely'
import { enterTenant } from '../../platform/auth/index.js'
import type { DB } from '../../platform/db/schema.js'
import { type LedgerEntry, recordIn, type StateSource } from './ledger.service.js'
import type { StoreTransaction, TransactionStatus } from './stores/port.js'

/**
 * Entitlements follow the ledger. What a store confirmed is recorded and the entitlements it implies
 * change in the same database transaction, so they can never disagree:
 * - `purchased` opens an entitlement of the holder (the confirming account, or the ledger's owner
 *   when a notification re-grants after a reversed refund);
 * - `refunded` / `revoked` (and a paid invoice later cancelled) end every entitlement that came
 *   from the transaction;
 * - `pending` / `failed` / `cancelled` before any grant change nothing.
 * A restore by another account of the same store customer moves the purchase: the previous holder's
 * entitlement ends (`moved`), the ledger keeps its first owner (a legal record).
 */

export interface SettleInput {
  tenantId: number
  tx: StoreTransaction
  /** Who asks: the confirming or restoring account; null for a store notification. */
  accountId: string | null
  /** The catalog item the transaction buys (resolved by the caller from the product or the intent). */
  catalogItemId: number | null
  intentId: string | null
  source: StateSource
}

export interface Settlement {
  entry: LedgerEntry
  /** The account that holds the entitlement after this, or null. */
  holder: string | null
  granted: boolean
  ended: number
}

const ENDING: Partial<Record<TransactionStatus, 'refunded' | 'revoked'>> = {
  refunded: 'refunded',
  revoked: 'revoked',
  cancelled: 'refunded',
  failed: 'refunded',
}

export async function settleIn(trx: Transaction<DB>, input: SettleInput): Promise<Settlement> {
  const { tenantId, tx, accountId, catalogItemId, intentId, source } = input
  const restore = source === 'restore'
  const entry = await recordIn(trx, tenantId, tx, accountId, source, { allowOtherOwner: restore })
  const holder = accountId ?? entry.accountId
  // From here on the transaction runs under the tenant's row-level security.
  await enterTenant(trx, tenantId)
  const itemId = catalogItemId ?? (await intendedItem(trx, tx))
  let granted = false
  let ended = 0
  const endReason = ENDING[tx.status]
  if (tx.status === 'purchased' && holder !== null && itemId !== null) {
    if (restore) {
      const moved = await trx
        .updateTable('entitlement')
        .set({ ended_at: sql<Date>`now()`, ended_reason: 'moved' })
        .where('store_transaction_id', '=', entry.id)
        .where('account_id', '<>', holder)
        .where('ended_at', 'is', null)
        .executeTakeFirst()
      ended = Number(moved.numUpdatedRows)
    }
    const row = await trx
      .insertInto('entitlement')
      .values({
        tenant_id: tenantId,
        account_id: holder,
        catalog_item_id: itemId,
        source: holder === entry.accountId ? 'purchase' : 'restore',
        store_transaction_id: entry.id,
      })
      .onConflict((oc) =>
        oc.columns(['account_id', 'catalog_item_id']).where('ended_at', 'is', null).doNothing(),
      )
      .returning('id')
      .executeTakeFirst()
    granted = row !== undefined
  } else if (endReason) {
    const res = await trx
      .updateTable('entitlement')
      .set({ ended_at: sql<Date>`now()`, ended_reason: endReason })
      .where('store_transaction_id', '=', entry.id)
      .where('ended_at', 'is', null)
      .executeTakeFirst()
    ended = Number(res.numUpdatedRows)
  }
  if (intentId !== null && tx.status === 'purchased')
    await trx
      .updateTable('purchase_intent')
      .set({ completed_at: sql<Date>`coalesce(completed_at, now())`, transaction_id: entry.id })
      .where('id', '=', intentId)
      .execute()
  return { entry, holder, granted, ended }
}

/** A store that does not name the product (RuStore may not): the intent the transaction is bound to does. */
async function intendedItem(trx: Transaction<DB>, tx: StoreTransaction): Promise<number | null> {
  if (!tx.bindingToken || !UUID.test(tx.bindingToken)) return null
  const intent = await trx
    .selectFrom('purchase_intent')
    .select('catalog_item_id')
    .where('id', '=', tx.bindingToken.toLowerCase())
    .where('store', '=', tx.store)
    .executeTakeFirst()
  return intent ? Number(intent.catalog_item_id) : null
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
