import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createStores } from '../../src/modules/purchases/index.js'
import { StoreError } from '../../src/modules/purchases/stores/port.js'
import {
  createRuStoreStore,
  formatTimestamp,
  type RuStoreOptions,
} from '../../src/modules/purchases/stores/rustore.js'
import { type RuStoreFake, startRuStoreFake } from '../helpers/rustore-fake.js'

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 })
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
const ORDER = '0b8c6f1e-8a4f-4a53-9e53-0f2a3b9e7d11'

let skew = 0
const now = () => Date.now() + skew
let fake: RuStoreFake

function make(extra: Partial<RuStoreOptions> = {}) {
  return createRuStoreStore({
    apiUrl: fake.url,
    keyId: 'key-1',
    privateKeyPem,
    apps: { gorod: { appId: 3399750 }, progulki: { appId: 4400001 } },
    timeoutMs: 2000,
    timestampOffset: '+03:00',
    acceptSandbox: true,
    isKnownProduct: (tenant, _store, productId) => tenant === 'gorod' && productId === 'tour_moscow',
    now: () => new Date(now()),
    ...extra,
  })
}

async function failure(promise: Promise<unknown>): Promise<StoreError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(StoreError)
  return err as StoreError
}

beforeAll(async () => {
  fake = await startRuStoreFake({ keyId: 'key-1', publicKey: keys.publicKey, now })
})
afterAll(() => fake.close())
beforeEach(() => {
  skew = 0
  fake.delayMs = 0
  fake.ttlSeconds = 900
  fake.failNext(0)
  fake.counts.auth = fake.counts.authRejected = fake.counts.purchase = 0
  fake.invoices.clear()
  fake.sandboxInvoices.clear()
  fake.invoices.set('1001', {
    invoiceId: 1001,
    appId: 3399750,
    invoiceStatus: 'CONFIRMED',
    orderId: ORDER,
    purchaseId: 'c3d7a4f0-1111-4222-8333-944445555666',
  })
})

describe('RuStore adapter against a local RuStore API', () => {
  it('confirms a CONFIRMED invoice and reuses the Public-Token for its TTL', async () => {
    const store = make()
    const tx = await store.verify('gorod', { invoiceId: '1001' })
    expect(tx).toMatchObject({
      store: 'rustore',
      tenant: 'gorod',
      environment: 'production',
      storeTransactionId: '1001',
      originalTransactionId: 'c3d7a4f0-1111-4222-8333-944445555666',
      status: 'purchased',
      bindingToken: ORDER,
      productId: null,
    })
    expect(tx.purchaseDate).toBeInstanceOf(Date)
    await store.verify('gorod', { invoiceId: '1001' })
    expect(fake.counts).toMatchObject({ auth: 1, purchase: 2 })
    skew = 16 * 60_000
    await store.verify('gorod', { invoiceId: '1001' })
    expect(fake.counts.auth).toBe(2)
  })

  it('shares one token request between concurrent confirmations', async () => {
    const store = make()
    await Promise.all(Array.from({ length: 10 }, () => store.verify('gorod', { invoiceId: '1001' })))
    expect(fake.counts).toMatchObject({ auth: 1, purchase: 10 })
  })

  it('maps every documented status, whatever its case', async () => {
    const store = make()
    const cases: [string, string][] = [
      ['confirmed', 'purchased'],
      ['Confirmed', 'purchased'],
      ['CREATED', 'pending'],
      ['executed', 'pending'],
      ['PAID', 'pending'],
      ['CANCELLED', 'cancelled'],
      ['reversed', 'cancelled'],
      ['REJECTED', 'failed'],
      ['expired', 'failed'],
      ['REFUNDED', 'refunded'],
    ]
    for (const [invoiceStatus, status] of cases) {
      fake.invoices.set('2002', { invoiceId: '2002', appId: 3399750, invoiceStatus })
      await expect(store.verify('gorod', { invoiceId: '2002' })).resolves.toMatchObject({ status })
    }
    fake.invoices.set('2002', { invoiceId: '2002', appId: 3399750, invoiceStatus: 'SOMETHING_NEW' })
    const err = await failure(store.verify('gorod', { invoiceId: '2002' }))
    expect(err).toMatchObject({ kind: 'unreachable', transient: true })
  })

  it("refuses an invoice of another RuStore app (the tenant's app id is checked)", async () => {
    expect((await failure(make().verify('progulki', { invoiceId: '1001' }))).kind).toBe('wrong_app')
  })

  it('checks the binding to the intent through orderId or developerPayload', async () => {
    const store = make()
    await expect(store.verify('gorod', { invoiceId: '1001', expectedBinding: ORDER })).resolves.toMatchObject(
      {
        status: 'purchased',
      },
    )
    expect(
      (await failure(store.verify('gorod', { invoiceId: '1001', expectedBinding: crypto.randomUUID() })))
        .kind,
    ).toBe('binding_mismatch')
    fake.invoices.set('3003', {
      invoiceId: 3003,
      appId: 3399750,
      invoiceStatus: 'CONFIRMED',
      developerPayload: ORDER,
    })
    await expect(store.verify('gorod', { invoiceId: '3003', expectedBinding: ORDER })).resolves.toMatchObject(
      {
        bindingToken: ORDER,
      },
    )
  })

  it('checks the product when RuStore names one', async () => {
    const store = make()
    fake.invoices.set('4004', {
      invoiceId: 4004,
      appId: 3399750,
      invoiceStatus: 'CONFIRMED',
      productId: 'tour_moscow',
    })
    await expect(store.verify('gorod', { invoiceId: '4004' })).resolves.toMatchObject({
      productId: 'tour_moscow',
    })
    fake.invoices.set('4004', {
      invoiceId: 4004,
      appId: 3399750,
      invoiceStatus: 'CONFIRMED',
      productId: 'coins_100',
    })
    expect((await failure(store.verify('gorod', { invoiceId: '4004' }))).kind).toBe('unknown_product')
  })

  it('reads sandbox payments from the sandbox path only, and refuses them when configured to', async () => {
    fake.sandboxInvoices.set('5005', { invoiceId: 5005, appId: 3399750, invoiceStatus: 'CONFIRMED' })
    await expect(make().verify('gorod', { invoiceId: '5005', sandbox: true })).resolves.toMatchObject({
      environment: 'sandbox',
      status: 'purchased',
    })
    expect((await failure(make().verify('gorod', { invoiceId: '5005' }))).kind).toBe('not_found')
    fake.counts.purchase = 0
    const refused = await failure(
      make({ acceptSandbox: false }).verify('gorod', { invoiceId: '5005', sandbox: true }),
    )
    expect(refused.kind).toBe('wrong_environment')
    expect(fake.counts.purchase).toBe(0)
  })

  it('gets a new token once when RuStore says the cached one expired', async () => {
    const store = make()
    await store.verify('gorod', { invoiceId: '1001' })
    fake.expireAllTokens()
    await expect(store.verify('gorod', { invoiceId: '1001' })).resolves.toMatchObject({ status: 'purchased' })
    expect(fake.counts).toMatchObject({ auth: 2, purchase: 3 })
  })

  it('gives up after one refresh when every token is refused (transient, never a grant)', async () => {
    fake.ttlSeconds = -1
    const err = await failure(make().verify('gorod', { invoiceId: '1001' }))
    expect(err).toMatchObject({ kind: 'unreachable', transient: true })
    expect(fake.counts).toMatchObject({ auth: 2, purchase: 2 })
  })

  it('is refused a token for a wrong key or a clock outside the 60 s window', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    })
    const wrongKey = await failure(
      make({ privateKeyPem: other as string }).verify('gorod', { invoiceId: '1001' }),
    )
    expect(wrongKey).toMatchObject({ kind: 'unreachable', transient: true })
    expect(wrongKey.message).toContain('401')
    const late = await failure(
      make({ now: () => new Date(Date.now() - 5 * 60_000) }).verify('gorod', { invoiceId: '1001' }),
    )
    expect(late.message).toContain('Range timestamp not valid')
    expect(fake.counts).toMatchObject({ authRejected: 2, purchase: 0 })
  })

  it('signs a UTC timestamp as well', async () => {
    await expect(
      make({ timestampOffset: 'Z' }).verify('gorod', { invoiceId: '1001' }),
    ).resolves.toMatchObject({
      status: 'purchased',
    })
  })

  it('treats 5xx and non-JSON answers as a transient "store unreachable"', async () => {
    const store = make()
    fake.failNext(1, 503)
    expect(await failure(store.verify('gorod', { invoiceId: '1001' }))).toMatchObject({
      kind: 'unreachable',
      transient: true,
    })
    await store.verify('gorod', { invoiceId: '1001' })
    fake.failNext(1, 502)
    const err = await failure(store.verify('gorod', { invoiceId: '1001' }))
    expect(err).toMatchObject({ kind: 'unreachable', transient: true })
    expect(err.message).toContain('502')
  })

  it('times out a slow answer as a transient "store unreachable"', async () => {
    fake.delayMs = 1500
    const err = await failure(make({ timeoutMs: 200 }).verify('gorod', { invoiceId: '1001' }))
    expect(err).toMatchObject({
      kind: 'unreachable',
      transient: true,
      message: 'RuStore did not answer in time',
    })
  })

  it('reports an unknown invoice as not found, and refuses a malformed id without asking RuStore', async () => {
    const store = make()
    expect((await failure(store.verify('gorod', { invoiceId: '999' }))).kind).toBe('not_found')
    fake.counts.purchase = 0
    for (const bad of ['', '../auth', 'x'.repeat(65), '1 OR 1']) {
      expect((await failure(store.verify('gorod', { invoiceId: bad }))).kind).toBe('invalid_proof')
    }
    expect(fake.counts.purchase).toBe(0)
    expect((await failure(store.verify('nowhere', { invoiceId: '1001' }))).kind).toBe('not_configured')
  })

  it('is built from configuration: the console key (base64 PKCS#8) signs, the tenant app ids apply', async () => {
    const consoleKey = (keys.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64')
    const config = loadConfig({
      RUSTORE_ENABLED: 'true',
      RUSTORE_API_URL: `${fake.url}/`,
      RUSTORE_KEY_ID: 'key-1',
      RUSTORE_PRIVATE_KEY: consoleKey,
      RUSTORE_APPS: 'gorod:3399750',
    })
    const stores = createStores(config.stores, () => true)
    expect(stores.apple).toBeNull()
    await expect(stores.rustore?.verify('gorod', { invoiceId: '1001' })).resolves.toMatchObject({
      status: 'purchased',
    })
    expect(fake.counts.authRejected).toBe(0)
  })

  it('formats the signed timestamp like RuStore expects', () => {
    const at = new Date('2024-06-18T08:49:08.290Z')
    expect(formatTimestamp(at, '+03:00')).toBe('2024-06-18T11:49:08.290+03:00')
    expect(formatTimestamp(at, '-05:30')).toBe('2024-06-18T03:19:08.290-05:30')
    expect(formatTimestamp(at, 'Z')).toBe('2024-06-18T08:49:08.290Z')
  })
})
