import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appendStatus,
  cutAccountLink,
  LedgerConflictError,
  latestStatus,
  processEvents,
  receiveEvent,
  recordTransaction,
} from '../../src/modules/purchases/ledger.service.js'
import type { StoreTransaction } from '../../src/modules/purchases/stores/port.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'

let database: TestDatabase
let tenantA: number
let tenantB: number

beforeAll(async () => {
  database = await createTestDatabase()
  const tenants = await database.db.selectFrom('tenants').select('id').orderBy('id').execute()
  tenantA = tenants[0]!.id
  tenantB = tenants[1]!.id
})
afterAll(async () => {
  await database?.close()
})

let seq = 0
function tx(overrides: Partial<StoreTransaction> = {}): StoreTransaction {
  seq++
  return {
    store: 'apple',
    tenant: 'gorod',
    environment: 'production',
    storeTransactionId: `20000000${seq}`,
    originalTransactionId: `20000000${seq}`,
    productId: 'ru.gorod.app.tour.moscow',
    purchaseDate: new Date(),
    status: 'purchased',
    bindingToken: randomUUID(),
    raw: { transactionId: `20000000${seq}` },
    ...overrides,
  }
}

const states = async (id: string) =>
  database.db
    .selectFrom('store_transaction_states')
    .selectAll()
    .where('transaction_id', '=', id)
    .orderBy('id')
    .execute()

describe('purchase ledger', () => {
  it('records a transaction once; the same account again gets the same entry', async () => {
    const account = randomUUID()
    const t = tx()
    const first = await recordTransaction(database.db, tenantA, t, account, 'confirm')
    expect(first).toMatchObject({
      accountId: account,
      status: 'purchased',
      created: true,
      statusChanged: true,
    })
    const again = await recordTransaction(database.db, tenantA, t, account, 'confirm')
    expect(again).toMatchObject({ id: first.id, accountId: account, created: false, statusChanged: false })
    expect(await states(first.id)).toHaveLength(1)
  })

  it('refuses the same transaction for another account, changing nothing', async () => {
    const t = tx()
    const owner = randomUUID()
    const first = await recordTransaction(database.db, tenantA, t, owner, 'confirm')
    await expect(recordTransaction(database.db, tenantA, t, randomUUID(), 'confirm')).rejects.toBeInstanceOf(
      LedgerConflictError,
    )
    await expect(recordTransaction(database.db, tenantB, t, owner, 'confirm')).rejects.toBeInstanceOf(
      LedgerConflictError,
    )
    const row = await database.db
      .selectFrom('store_transactions')
      .select('account_id')
      .where('id', '=', first.id)
      .executeTakeFirstOrThrow()
    expect(row.account_id).toBe(owner)
    expect(await states(first.id)).toHaveLength(1)
  })

  it('binds an unclaimed transaction (recorded from a notification) to the first account that confirms it', async () => {
    const t = tx({ store: 'rustore' })
    const seen = await recordTransaction(database.db, tenantA, t, null, 'notification')
    expect(seen.accountId).toBeNull()
    const account = randomUUID()
    const claimed = await recordTransaction(database.db, tenantA, t, account, 'confirm')
    expect(claimed).toMatchObject({ id: seen.id, accountId: account, created: false })
    await expect(recordTransaction(database.db, tenantA, t, randomUUID(), 'confirm')).rejects.toBeInstanceOf(
      LedgerConflictError,
    )
  })

  it('keeps one row per (store, environment, store transaction id)', async () => {
    const t = tx()
    const prod = await recordTransaction(database.db, tenantA, t, null, 'confirm')
    const sandbox = await recordTransaction(
      database.db,
      tenantA,
      { ...t, environment: 'sandbox' },
      null,
      'confirm',
    )
    const rustore = await recordTransaction(database.db, tenantA, { ...t, store: 'rustore' }, null, 'confirm')
    expect(new Set([prod.id, sandbox.id, rustore.id]).size).toBe(3)
  })

  it('makes one row and one status out of twenty concurrent confirmations by one account', async () => {
    const t = tx()
    const account = randomUUID()
    const results = await Promise.all(
      Array.from({ length: 20 }, () => recordTransaction(database.db, tenantA, t, account, 'confirm')),
    )
    expect(new Set(results.map((r) => r.id)).size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    const rows = await database.db
      .selectFrom('store_transactions')
      .select('id')
      .where('store_transaction_id', '=', t.storeTransactionId)
      .execute()
    expect(rows).toHaveLength(1)
    expect(await states(rows[0]!.id)).toHaveLength(1)
  })

  it('lets exactly one of twenty concurrent accounts claim a transaction', async () => {
    const t = tx()
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, () => recordTransaction(database.db, tenantA, t, randomUUID(), 'confirm')),
    )
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1)
    const refused = settled.filter((s) => s.status === 'rejected')
    expect(refused).toHaveLength(19)
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LedgerConflictError)
  })

  it('appends what the store says later (a refund), never rewriting the history', async () => {
    const t = tx()
    const account = randomUUID()
    const entry = await recordTransaction(database.db, tenantA, t, account, 'confirm')
    const refunded = await recordTransaction(
      database.db,
      tenantA,
      { ...t, status: 'refunded' },
      account,
      'notification',
    )
    expect(refunded).toMatchObject({ id: entry.id, status: 'refunded', statusChanged: true })
    expect(await appendStatus(database.db, entry.id, 'refunded', 'reconcile', {})).toBe(false)
    expect(await latestStatus(database.db, entry.id)).toBe('refunded')
    expect((await states(entry.id)).map((s) => [s.status, s.source])).toEqual([
      ['purchased', 'confirm'],
      ['refunded', 'notification'],
    ])
  })

  it('is append-only: no update or delete of facts or history; deletion only cuts the link to the person', async () => {
    const account = randomUUID()
    const entry = await recordTransaction(database.db, tenantA, tx(), account, 'confirm')
    const db = database.db
    await expect(
      db.updateTable('store_transactions').set({ product_id: 'other' }).where('id', '=', entry.id).execute(),
    ).rejects.toThrow(/append-only/)
    await expect(
      db
        .updateTable('store_transactions')
        .set({ account_id: randomUUID() })
        .where('id', '=', entry.id)
        .execute(),
    ).rejects.toThrow(/append-only/)
    await expect(db.deleteFrom('store_transactions').where('id', '=', entry.id).execute()).rejects.toThrow(
      /append-only/,
    )
    await expect(
      db
        .updateTable('store_transaction_states')
        .set({ status: 'refunded' })
        .where('transaction_id', '=', entry.id)
        .execute(),
    ).rejects.toThrow(/append-only/)
    await expect(
      db.deleteFrom('store_transaction_states').where('transaction_id', '=', entry.id).execute(),
    ).rejects.toThrow(/append-only/)
    expect(await cutAccountLink(db, account)).toBe(1)
    const row = await db
      .selectFrom('store_transactions')
      .select(['account_id', 'product_id'])
      .where('id', '=', entry.id)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ account_id: null, product_id: 'ru.gorod.app.tour.moscow' })
    expect(await states(entry.id)).toHaveLength(1)
  })

  it('has no balance, credit, coin, wallet, currency or amount anywhere in its tables', async () => {
    const { rows } = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns
      WHERE table_name IN ('store_transactions', 'store_transaction_states', 'store_events')`.execute(
      database.db,
    )
    expect(rows.length).toBeGreaterThan(20)
    for (const { column_name } of rows)
      expect(column_name).not.toMatch(/balance|credit|coin|wallet|currency|amount|top_?up/)
  })
})

describe('store notifications inbox', () => {
  it('stores an event once per store event id', async () => {
    const id = randomUUID()
    const first = await receiveEvent(database.db, {
      store: 'apple',
      externalEventId: id,
      tenantId: tenantA,
      payload: { a: 1 },
    })
    const again = await receiveEvent(database.db, {
      store: 'apple',
      externalEventId: id,
      tenantId: tenantA,
      payload: { a: 2 },
    })
    expect(again).toEqual({ id: first.id, duplicate: true })
    const other = await receiveEvent(database.db, {
      store: 'rustore',
      externalEventId: id,
      tenantId: null,
      payload: {},
    })
    expect(other.duplicate).toBe(false)
    const row = await database.db
      .selectFrom('store_events')
      .select('payload')
      .where('id', '=', first.id)
      .executeTakeFirstOrThrow()
    expect(row.payload).toEqual({ a: 1 })
  })

  it('processes each received event once; a failing handler leaves no partial write and records why', async () => {
    // Drain what earlier tests left, so the counts below are this test's own.
    await processEvents(database.db, 100, async () => 'ignored')
    const t = tx()
    const entry = await recordTransaction(database.db, tenantA, t, randomUUID(), 'confirm')
    const ok = await receiveEvent(database.db, {
      store: 'apple',
      externalEventId: randomUUID(),
      tenantId: tenantA,
      payload: { refund: entry.id },
    })
    const test = await receiveEvent(database.db, {
      store: 'apple',
      externalEventId: randomUUID(),
      tenantId: tenantA,
      payload: { test: true },
    })
    const bad = await receiveEvent(database.db, {
      store: 'apple',
      externalEventId: randomUUID(),
      tenantId: tenantA,
      payload: { broken: entry.id },
    })
    const handle = async (
      event: { payload: unknown },
      trx: Parameters<Parameters<typeof processEvents>[2]>[1],
    ) => {
      const p = event.payload as { refund?: string; test?: boolean; broken?: string }
      if (p.test) return 'ignored' as const
      await appendStatus(trx, (p.refund ?? p.broken)!, p.refund ? 'refunded' : 'revoked', 'notification', p)
      if (p.broken) throw new Error('store re-read failed')
      return 'processed' as const
    }
    expect(await processEvents(database.db, 10, handle)).toEqual({ processed: 1, ignored: 1, failed: 1 })
    expect(await processEvents(database.db, 10, handle)).toEqual({ processed: 0, ignored: 0, failed: 0 })
    expect((await states(entry.id)).map((s) => s.status)).toEqual(['purchased', 'refunded'])
    const rows = await database.db
      .selectFrom('store_events')
      .select(['id', 'status', 'error', 'attempts'])
      .where('id', 'in', [ok.id, test.id, bad.id])
      .orderBy('id')
      .execute()
    expect(rows.map((r) => [r.status, r.error, r.attempts])).toEqual([
      ['processed', null, 1],
      ['ignored', null, 1],
      ['failed', 'store re-read failed', 1],
    ])
  })
})
