import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { json } from '../helpers/http.js'
import { describeWithOpenssl } from '../helpers/openssl.js'
import {
  APPS,
  appleJws,
  appleNotification,
  gorod,
  intent,
  newAccount,
  type PurchaseWorld,
  progulki,
  queuedRuns,
  rustoreNotification,
  startPurchaseWorld,
  work,
} from './purchase-fixtures.js'

describeWithOpenssl('purchases confirmed by the server (App Store, RuStore)', () => {
  let w: PurchaseWorld
  const db = () => w.t.database.db
  const post = (path: string, headers: Record<string, string>, body: unknown) =>
    w.t.app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
  const entitlements = async (headers: Record<string, string>) =>
    (await json(await w.t.app.request('/v1/me/entitlements', { headers }))).entitlements as Array<{
      catalog_item_id: number
      source: string
      store: string | null
    }>
  const ledgerRows = (storeTransactionId: string) =>
    db()
      .selectFrom('store_transactions')
      .selectAll()
      .where('store_transaction_id', '=', storeTransactionId)
      .execute()
  const txId = (jws: string) =>
    JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).transactionId as string

  beforeAll(async () => {
    w = await startPurchaseWorld()
  }, 60_000)
  afterAll(() => w?.close())

  it('an intent binds the coming purchase; asking again answers the same one; free, foreign and owned items are refused', async () => {
    const a = await newAccount(w.t)
    const res = await intent(w.t, a.headers, w.items.paid, 'apple')
    expect(res.status).toBe(201)
    const body = await json(res)
    expect(body).toMatchObject({ product_id: 'ru.gorod.app.tour.moscow', store: 'apple' })
    expect(body.app_account_token).toBe(body.intent_id)
    expect(body.order_id).toBe(body.intent_id)
    expect((await json(await intent(w.t, a.headers, w.items.paid, 'apple'))).intent_id).toBe(body.intent_id)
    expect((await json(await intent(w.t, a.headers, w.items.paid, 'rustore'))).product_id).toBe('tour_moscow')

    const free = await intent(w.t, a.headers, w.items.free, 'apple')
    expect(free.status).toBe(422)
    expect((await json(free)).code).toBe('PURCHASE_NOT_OFFERED')
    // progulki does not offer the gorod-only item; it offers the shared one, but not in RuStore.
    const p = await newAccount(w.t, progulki)
    expect((await intent(w.t, p.headers, w.items.paid, 'apple')).status).toBe(422)
    expect((await intent(w.t, p.headers, w.items.shared, 'rustore')).status).toBe(422)
    expect((await json(await intent(w.t, p.headers, w.items.shared, 'apple'))).product_id).toBe(
      'ru.progulki.app.lavra',
    )
    expect((await intent(w.t, a.headers, 999_999, 'apple')).status).toBe(422)
  })

  it('App Store: a signed transaction bound to the intent grants; a replay answers the same; another account gets 409', async () => {
    const a = await newAccount(w.t)
    const { app_account_token } = await json(await intent(w.t, a.headers, w.items.paid, 'apple'))
    const jws = appleJws(w, app_account_token)
    const res = await post('/v1/purchases/apple', a.headers, { signed_transaction: jws })
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body.transaction).toMatchObject({ store: 'apple', environment: 'production', status: 'purchased' })
    expect(body.entitlements).toEqual([
      expect.objectContaining({ catalog_item_id: w.items.paid, source: 'purchase', store: 'apple' }),
    ])
    const again = await post('/v1/purchases/apple', a.headers, { signed_transaction: jws })
    expect(again.status).toBe(200)
    expect(await json(again)).toEqual(body)
    expect(await ledgerRows(txId(jws))).toHaveLength(1)

    const b = await newAccount(w.t)
    const stolen = await post('/v1/purchases/apple', b.headers, { signed_transaction: jws })
    expect(stolen.status).toBe(409)
    expect((await json(stolen)).code).toBe('PURCHASE_ALREADY_CLAIMED')
    expect(await entitlements(b.headers)).toEqual([])
    // Owned now: a second intent for it is a conflict.
    expect((await intent(w.t, a.headers, w.items.paid, 'apple')).status).toBe(409)
  })

  it('App Store: tampered, unbound, foreign-app, unknown-product and revoked transactions grant nothing (422)', async () => {
    const a = await newAccount(w.t)
    const { app_account_token } = await json(await intent(w.t, a.headers, w.items.paid, 'apple'))
    const good = appleJws(w, app_account_token)
    const [h, , s] = good.split('.')
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()),
        productId: 'x',
      }),
    ).toString('base64url')
    const cases: Array<[string, string, string]> = [
      ['tampered', `${h}.${forged}.${s}`, 'PURCHASE_PROOF_INVALID'],
      ['no intent', appleJws(w, undefined), 'PURCHASE_NOT_BOUND'],
      ["another account's intent", appleJws(w, randomUUID()), 'PURCHASE_NOT_BOUND'],
      [
        'another app',
        appleJws(w, app_account_token, { bundleId: APPS.progulki.bundleId }),
        'PURCHASE_PROOF_INVALID',
      ],
      [
        'unknown product',
        appleJws(w, app_account_token, { productId: 'ru.gorod.app.coins' }),
        'PURCHASE_NOT_OFFERED',
      ],
      ['consumable', appleJws(w, app_account_token, { type: 'Consumable' }), 'PURCHASE_NOT_OFFERED'],
      [
        'refunded',
        appleJws(w, app_account_token, { revocationDate: Date.now(), revocationReason: 0 }),
        'PURCHASE_REFUSED',
      ],
    ]
    for (const [name, jws, code] of cases) {
      const res = await post('/v1/purchases/apple', a.headers, { signed_transaction: jws })
      expect([name, res.status]).toEqual([name, 422])
      expect([name, (await json(res)).code]).toEqual([name, code])
    }
    expect(await entitlements(a.headers)).toEqual([])
    const malformed = await post('/v1/purchases/apple', a.headers, { signed_transaction: 'a'.repeat(40_000) })
    expect(malformed.status).toBe(400)
  })

  it('twenty concurrent confirmations of one transaction make one ledger row and one entitlement', async () => {
    const a = await newAccount(w.t)
    const { app_account_token } = await json(await intent(w.t, a.headers, w.items.shared, 'apple'))
    const jws = appleJws(w, app_account_token, { productId: 'ru.gorod.app.tour.lavra' })
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post('/v1/purchases/apple', a.headers, { signed_transaction: jws })),
    )
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200))
    const rows = await ledgerRows(txId(jws))
    expect(rows).toHaveLength(1)
    const states = await db()
      .selectFrom('store_transaction_states')
      .select('status')
      .where('transaction_id', '=', rows[0]!.id)
      .execute()
    expect(states.map((s) => s.status)).toEqual(['purchased'])
    expect(await entitlements(a.headers)).toHaveLength(1)
  })

  it('RuStore: a confirmed invoice grants; in progress answers 202 and a claim job grants once RuStore confirms', async () => {
    const a = await newAccount(w.t)
    const { order_id } = await json(await intent(w.t, a.headers, w.items.paid, 'rustore'))
    w.fake.invoices.set('9001', {
      invoiceId: 9001,
      appId: APPS.gorod.rustoreAppId,
      invoiceStatus: 'CONFIRMED',
      orderId: order_id,
      productId: 'tour_moscow',
    })
    const ok = await post('/v1/purchases/rustore', a.headers, { invoice_id: '9001' })
    expect(ok.status).toBe(200)
    expect((await json(ok)).entitlements).toEqual([
      expect.objectContaining({ catalog_item_id: w.items.paid, store: 'rustore' }),
    ])

    const b = await newAccount(w.t)
    const bIntent = await json(await intent(w.t, b.headers, w.items.paid, 'rustore'))
    // RuStore v2 may not name the product: the intent does.
    w.fake.invoices.set('9002', {
      invoiceId: 9002,
      appId: APPS.gorod.rustoreAppId,
      invoiceStatus: 'PROCESSING',
      orderId: bIntent.order_id,
    })
    const pending = await post('/v1/purchases/rustore', b.headers, { invoice_id: '9002' })
    expect(pending.status).toBe(202)
    expect(pending.headers.get('retry-after')).toBe('30')
    const claimBody = await json(pending)
    expect(claimBody).toMatchObject({ status: 'pending', retry_after_seconds: 30 })
    expect(await entitlements(b.headers)).toEqual([])
    // Asking again while it waits finds the same claim.
    expect(
      (await json(await post('/v1/purchases/rustore', b.headers, { invoice_id: '9002' }))).claim_id,
    ).toBe(claimBody.claim_id)
    const [run] = (await queuedRuns(db(), 'purchase_claim')).filter(
      (r) => (r.source as { tenant: string }).tenant === 'gorod',
    )
    expect(run).toBeDefined()
    // Still processing: the run is retried, nothing is granted.
    expect(await work(w, run!.id)).toMatchObject({ outcome: 'retry', code: 'STORE_PENDING' })
    expect(await entitlements(b.headers)).toEqual([])
    w.fake.invoices.get('9002')!.invoiceStatus = 'CONFIRMED'
    await db().updateTable('ingestion_run').set({ status: 'QUEUED' }).where('id', '=', run!.id).execute()
    expect(await work(w, run!.id)).toMatchObject({ outcome: 'succeeded', stats: { state: 'confirmed' } })
    expect(await entitlements(b.headers)).toEqual([
      expect.objectContaining({ catalog_item_id: w.items.paid }),
    ])
  })

  it('RuStore unreachable: 503 with Retry-After, the claim is kept, nothing granted; cancelled and foreign invoices are refused', async () => {
    const a = await newAccount(w.t)
    const { order_id } = await json(await intent(w.t, a.headers, w.items.shared, 'rustore'))
    w.fake.invoices.set('9101', {
      invoiceId: 9101,
      appId: APPS.gorod.rustoreAppId,
      invoiceStatus: 'CONFIRMED',
      orderId: order_id,
      productId: 'tour_lavra',
    })
    w.fake.failNext(10, 502)
    const down = await post('/v1/purchases/rustore', a.headers, { invoice_id: '9101' })
    expect(down.status).toBe(503)
    expect(down.headers.get('retry-after')).toBe('30')
    expect((await json(down)).code).toBe('STORE_UNAVAILABLE')
    expect(await entitlements(a.headers)).toEqual([])
    w.fake.failNext(0)
    // The app's next confirmation decides it (and closes the claim the job would have asked about).
    expect((await post('/v1/purchases/rustore', a.headers, { invoice_id: '9101' })).status).toBe(200)

    w.fake.invoices.set('9102', {
      invoiceId: 9102,
      appId: APPS.gorod.rustoreAppId,
      invoiceStatus: 'CANCELLED',
      orderId: order_id,
    })
    const cancelled = await post('/v1/purchases/rustore', a.headers, { invoice_id: '9102' })
    expect(cancelled.status).toBe(422)
    expect(await json(cancelled)).toMatchObject({
      code: 'PURCHASE_REFUSED',
      detail: 'Магазин сообщил, что покупка отменена',
    })
    w.fake.invoices.set('9103', {
      invoiceId: 9103,
      appId: APPS.progulki.rustoreAppId,
      invoiceStatus: 'CONFIRMED',
      orderId: order_id,
    })
    expect((await json(await post('/v1/purchases/rustore', a.headers, { invoice_id: '9103' }))).code).toBe(
      'PURCHASE_PROOF_INVALID',
    )
  })

  it('an App Store REFUND notification ends the entitlement once; a duplicate does nothing; a tampered one is 401', async () => {
    const a = await newAccount(w.t)
    const { app_account_token } = await json(await intent(w.t, a.headers, w.items.paid, 'apple'))
    const jws = appleJws(w, app_account_token)
    expect((await post('/v1/purchases/apple', a.headers, { signed_transaction: jws })).status).toBe(200)
    const tx = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString())
    const refunded = appleJws(w, app_account_token, {
      transactionId: tx.transactionId,
      originalTransactionId: tx.transactionId,
      revocationDate: Date.now(),
      revocationReason: 1,
    })
    const uuid = randomUUID()
    const signedPayload = appleNotification(w, 'REFUND', refunded, APPS.gorod, uuid)
    const first = await post('/v1/stores/apple/notifications', {}, { signedPayload })
    expect(first.status).toBe(200)
    expect(await json(first)).toEqual({ received: true, duplicate: false })
    expect(await json(await post('/v1/stores/apple/notifications', {}, { signedPayload }))).toEqual({
      received: true,
      duplicate: true,
    })
    // Answered before any change: the entitlement ends when the job has read the notification again.
    expect(await entitlements(a.headers)).toHaveLength(1)
    const runs = await queuedRuns(db(), 'store_event')
    expect(runs).toHaveLength(1)
    expect(await work(w, runs[0]!.id)).toMatchObject({
      outcome: 'succeeded',
      stats: { outcome: 'processed' },
    })
    expect(await entitlements(a.headers)).toEqual([])
    const ended = await db()
      .selectFrom('entitlement')
      .select(['ended_reason'])
      .where('account_id', '=', a.id)
      .execute()
    expect(ended).toEqual([{ ended_reason: 'refunded' }])
    // Apple reverses the refund: the same transaction, no longer revoked, grants again.
    const reversed = appleNotification(w, 'REFUND_REVERSED', jws)
    expect((await post('/v1/stores/apple/notifications', {}, { signedPayload: reversed })).status).toBe(200)
    const [again] = await queuedRuns(db(), 'store_event')
    expect(await work(w, again!.id)).toMatchObject({ outcome: 'succeeded', stats: { outcome: 'processed' } })
    expect(await entitlements(a.headers)).toEqual([
      expect.objectContaining({ catalog_item_id: w.items.paid, source: 'purchase' }),
    ])
    // A TEST notification is stored and ignored.
    const test = appleNotification(w, 'TEST', undefined)
    expect((await post('/v1/stores/apple/notifications', {}, { signedPayload: test })).status).toBe(200)
    const [testRun] = await queuedRuns(db(), 'store_event')
    expect(await work(w, testRun!.id)).toMatchObject({ outcome: 'succeeded', stats: { outcome: 'ignored' } })

    const [hh, pp, ss] = signedPayload.split('.')
    const flipped = `${hh}.${pp!.slice(0, -2)}${pp!.slice(-2) === 'AA' ? 'AB' : 'AA'}.${ss}`
    const tampered = await post('/v1/stores/apple/notifications', {}, { signedPayload: flipped })
    expect(tampered.status).toBe(401)
    expect((await post('/v1/stores/apple/notifications', {}, { signedPayload: 'not.a.jws' })).status).toBe(
      401,
    )
    expect(await queuedRuns(db(), 'store_event')).toHaveLength(0)
  })

  it('a RuStore notification is decrypted, stored once and re-read from RuStore before a refund ends access; a wrong key is 401', async () => {
    const a = await newAccount(w.t)
    const { order_id } = await json(await intent(w.t, a.headers, w.items.paid, 'rustore'))
    w.fake.invoices.set('9201', {
      invoiceId: 9201,
      appId: APPS.gorod.rustoreAppId,
      invoiceStatus: 'CONFIRMED',
      orderId: order_id,
      productId: 'tour_moscow',
    })
    expect((await post('/v1/purchases/rustore', a.headers, { invoice_id: '9201' })).status).toBe(200)
    w.fake.invoices.get('9201')!.invoiceStatus = 'REFUNDED'
    const payload = {
      notification_type: 'INVOICE_STATUS',
      app_id: APPS.gorod.rustoreAppId,
      data: JSON.stringify({ invoice_id: '9201', status_new: 'REFUNDED', status_old: 'CONFIRMED', order_id }),
    }
    const body = rustoreNotification(w.notificationKey, payload)
    expect(await json(await post('/v1/stores/rustore/notifications', {}, body))).toEqual({
      received: true,
      duplicate: false,
    })
    expect(await json(await post('/v1/stores/rustore/notifications', {}, body))).toEqual({
      received: true,
      duplicate: true,
    })
    const wrongKey = rustoreNotification(Buffer.alloc(32, 7), payload)
    expect((await post('/v1/stores/rustore/notifications', {}, wrongKey)).status).toBe(401)
    const test = rustoreNotification(w.notificationKey, {
      notification_type: 'TEST_EVENT',
      app_id: APPS.gorod.rustoreAppId,
      data: '{"test":"TEST"}',
    })
    expect((await post('/v1/stores/rustore/notifications', {}, test)).status).toBe(200)
    const outcomes = []
    for (const run of await queuedRuns(db(), 'store_event'))
      outcomes.push((await work(w, run.id)) as { stats?: { outcome: string } })
    expect(outcomes.map((o) => o.stats?.outcome).sort()).toEqual(['ignored', 'processed'])
    expect(await entitlements(a.headers)).toEqual([])
  })

  it('restore on a second account (a new phone) moves the purchase there; the ledger keeps its first owner', async () => {
    const first = await newAccount(w.t)
    const { app_account_token } = await json(await intent(w.t, first.headers, w.items.shared, 'apple'))
    const jws = appleJws(w, app_account_token, { productId: 'ru.gorod.app.tour.lavra' })
    expect((await post('/v1/purchases/apple', first.headers, { signed_transaction: jws })).status).toBe(200)
    const second = await newAccount(w.t)
    const res = await post('/v1/purchases/restore', second.headers, {
      apple: [jws, 'garbage'],
      rustore: [{ invoice_id: 'unknown-1' }],
    })
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body.results.map((r: { outcome: string }) => r.outcome)).toEqual([
      'restored',
      'refused',
      'refused',
    ])
    expect(body.entitlements).toEqual([
      expect.objectContaining({ catalog_item_id: w.items.shared, source: 'restore' }),
    ])
    expect(await entitlements(first.headers)).toEqual([])
    const [row] = await ledgerRows(txId(jws))
    expect(row!.account_id).toBe(first.id)
    // Restoring again is harmless.
    expect(
      (await json(await post('/v1/purchases/restore', second.headers, { apple: [jws] }))).results[0].outcome,
    ).toBe('owned')
  })

  it('access follows the purchase (the catalog check says owned); deletion removes entitlements and keeps the ledger unlinked', async () => {
    const a = await newAccount(w.t)
    // What the catalog and tours decide access from, on every request.
    const { ownedItemIds } = await import('../../src/modules/catalog/index.js')
    const tenant = await db()
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', 'gorod')
      .executeTakeFirstOrThrow()
    const owned = () => ownedItemIds(db(), tenant.id, a.id)
    expect(await owned()).toEqual(new Set())
    const { app_account_token } = await json(await intent(w.t, a.headers, w.items.paid, 'apple'))
    const jws = appleJws(w, app_account_token)
    expect((await post('/v1/purchases/apple', a.headers, { signed_transaction: jws })).status).toBe(200)
    expect(await owned()).toEqual(new Set([w.items.paid]))

    const deleted = await w.t.app.request('/v1/me', { method: 'DELETE', headers: a.headers })
    expect(deleted.status).toBe(202)
    const { job_id } = await json(deleted)
    const { executeRun } = await import('../../src/platform/jobs/worker.js')
    const { purgeAccountHandler } = await import('../../src/modules/accounts/index.js')
    const purged = await executeRun(job_id, {
      db: db(),
      log: w.t.deps.log,
      handlers: { account_purge: purgeAccountHandler },
      leaseSeconds: 60,
    })
    expect(purged).toMatchObject({
      outcome: 'succeeded',
      stats: { entitlements_deleted: 1, ledger_links_cut: 1 },
    })
    const [row] = await ledgerRows(txId(jws))
    expect(row).toMatchObject({ account_id: null, product_id: 'ru.gorod.app.tour.moscow' })
    expect(
      await db().selectFrom('entitlement').select('id').where('account_id', '=', a.id).execute(),
    ).toEqual([])
    expect(
      await db().selectFrom('purchase_intent').select('id').where('account_id', '=', a.id).execute(),
    ).toEqual([])
    // The person's new account can restore what they bought: the unlinked row binds to it.
    const b = await newAccount(w.t)
    const restored = await json(await post('/v1/purchases/restore', b.headers, { apple: [jws] }))
    expect(restored.results[0].outcome).toBe('restored')
    expect((await ledgerRows(txId(jws)))[0]!.account_id).toBe(b.id)
  })

  it("tenant isolation: one app's purchase proof is refused by the other app", async () => {
    const p = await newAccount(w.t, progulki)
    const g = await newAccount(w.t)
    const { app_account_token } = await json(await intent(w.t, g.headers, w.items.shared, 'apple'))
    const gorodJws = appleJws(w, app_account_token, { productId: 'ru.gorod.app.tour.lavra' })
    const res = await post('/v1/purchases/apple', p.headers, { signed_transaction: gorodJws })
    expect(res.status).toBe(422)
    expect((await json(res)).code).toBe('PURCHASE_PROOF_INVALID')
    // A gorod token with the progulki app key is refused before anything is read.
    const mixed = await post(
      '/v1/purchases/apple',
      { ...g.headers, ...progulki },
      { signed_transaction: gorodJws },
    )
    expect(mixed.status).toBe(403)
    const listed = await json(
      await w.t.app.request('/v1/cities/moscow/catalog?platform=ios', { headers: p.headers }),
    )
    expect(listed.items.map((i: { id: number }) => i.id)).not.toContain(w.items.paid)
  })

  it('sandbox purchases are recorded with their environment and counted apart', async () => {
    const a = await newAccount(w.t)
    const { app_account_token } = await json(await intent(w.t, a.headers, w.items.shared, 'apple'))
    const jws = appleJws(w, app_account_token, {
      productId: 'ru.gorod.app.tour.lavra',
      environment: 'Sandbox',
    })
    const res = await post('/v1/purchases/apple', a.headers, { signed_transaction: jws })
    expect((await json(res)).transaction.environment).toBe('sandbox')
    expect((await entitlements(a.headers))[0]).toMatchObject({ environment: 'sandbox' })
    const summary = await json(
      await w.t.app.request('/v1/admin/purchases/summary', {
        headers: { 'X-Admin-Token': 'test-admin-token-0123456789' },
      }),
    )
    const sandbox = summary.rows.find(
      (r: { environment: string; store: string }) => r.environment === 'sandbox' && r.store === 'apple',
    )
    expect(sandbox).toMatchObject({ tenant: 'gorod', status: 'purchased', transactions: 1 })
  })

  it('no route, table or column speaks of a balance, a wallet, credits or currency', async () => {
    const doc = JSON.stringify(await json(await w.t.app.request('/v1/openapi.json', { headers: gorod })))
    expect(doc).not.toMatch(/balance|wallet|credit|coin|top.?up|currency/i)
    const { rows } = await (await import('kysely')).sql<{ name: string }>`
      SELECT table_name || '.' || column_name AS name FROM information_schema.columns WHERE table_schema = 'public'`.execute(
      db(),
    )
    expect(
      rows.map((r) => r.name).filter((n) => /balance|wallet|credit|coin|currency|price|amount/i.test(n)),
    ).toEqual([])
  })
})
