import { generateKeyPairSync, sign } from 'node:crypto'
import { beforeAll, expect, it } from 'vitest'
import { type AppleStore, createAppleStore } from '../../src/modules/purchases/stores/apple.js'
import { StoreError } from '../../src/modules/purchases/stores/port.js'
import { appleTransaction, makeAppleChain, signJws, type TestChain } from '../helpers/apple-chain.js'
import { describeWithOpenssl } from '../helpers/openssl.js'

const APPS = {
  gorod: { bundleId: 'ru.gorod.app', appAppleId: 123456789 },
  progulki: { bundleId: 'ru.progulki.app', appAppleId: 987654321 },
}
const KNOWN = new Set(['gorod:ru.gorod.app.tour.moscow'])

async function failure(promise: Promise<unknown>): Promise<StoreError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(StoreError)
  return err as StoreError
}

describeWithOpenssl('App Store adapter (offline JWS verification)', () => {
  let chain: TestChain
  let store: AppleStore
  const make = (extra: Partial<Parameters<typeof createAppleStore>[0]> = {}) =>
    createAppleStore({
      rootCertificates: [chain.rootDer],
      apps: APPS,
      onlineChecks: false,
      acceptSandbox: true,
      isKnownProduct: (tenant, _store, productId) => KNOWN.has(`${tenant}:${productId}`),
      ...extra,
    })

  beforeAll(() => {
    chain = makeAppleChain()
    store = make()
  })

  it('accepts a valid signed transaction and normalises it', async () => {
    const tx = await store.verify('gorod', { signedTransaction: signJws(appleTransaction(), chain) })
    expect(tx).toMatchObject({
      store: 'apple',
      tenant: 'gorod',
      environment: 'production',
      storeTransactionId: '2000000123456789',
      originalTransactionId: '2000000123456789',
      productId: 'ru.gorod.app.tour.moscow',
      status: 'purchased',
      bindingToken: '7e3fb20b-4cdb-47cc-936d-99d65f608138',
    })
    expect(tx.purchaseDate).toBeInstanceOf(Date)
  })

  it('checks the binding to the intent when one is expected', async () => {
    const jws = signJws(appleTransaction(), chain)
    await expect(
      store.verify('gorod', {
        signedTransaction: jws,
        expectedBinding: '7e3fb20b-4cdb-47cc-936d-99d65f608138',
      }),
    ).resolves.toMatchObject({ status: 'purchased' })
    const err = await failure(
      store.verify('gorod', { signedTransaction: jws, expectedBinding: crypto.randomUUID() }),
    )
    expect(err.kind).toBe('binding_mismatch')
  })

  it('records sandbox transactions with their environment, and refuses them when configured to', async () => {
    const jws = signJws(appleTransaction({ environment: 'Sandbox' }), chain)
    await expect(store.verify('gorod', { signedTransaction: jws })).resolves.toMatchObject({
      environment: 'sandbox',
    })
    expect(
      (await failure(make({ acceptSandbox: false }).verify('gorod', { signedTransaction: jws }))).kind,
    ).toBe('wrong_environment')
  })

  it('refuses a tampered payload', async () => {
    const parts = signJws(appleTransaction(), chain).split('.')
    parts[1] = Buffer.from(JSON.stringify(appleTransaction({ transactionId: '2000000999999999' }))).toString(
      'base64url',
    )
    const err = await failure(store.verify('gorod', { signedTransaction: parts.join('.') }))
    expect(err.kind).toBe('invalid_proof')
    expect(err.transient).toBe(false)
  })

  it('refuses a signature by a key outside the chain', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
    const jws = signJws(appleTransaction(), {
      ...chain,
      leafKeyPem: other.export({ type: 'pkcs8', format: 'pem' }) as string,
    })
    expect((await failure(store.verify('gorod', { signedTransaction: jws }))).kind).toBe('invalid_proof')
  })

  it("refuses another tenant's bundle id", async () => {
    const jws = signJws(appleTransaction({ bundleId: 'ru.progulki.app' }), chain)
    expect((await failure(store.verify('gorod', { signedTransaction: jws }))).kind).toBe('wrong_app')
    await expect(store.verify('progulki', { signedTransaction: jws })).rejects.toMatchObject({
      kind: 'unknown_product',
    })
  })

  it('refuses an environment that is neither Production nor Sandbox (Xcode skips signatures)', async () => {
    for (const environment of ['Xcode', 'LocalTesting', 'Staging']) {
      const jws = signJws(appleTransaction({ environment }), chain)
      expect((await failure(store.verify('gorod', { signedTransaction: jws }))).kind).toBe(
        'wrong_environment',
      )
    }
  })

  it('refuses a product the tenant does not offer, and a product that is not non-consumable', async () => {
    const unknown = signJws(appleTransaction({ productId: 'ru.gorod.app.coins' }), chain)
    expect((await failure(store.verify('gorod', { signedTransaction: unknown }))).kind).toBe(
      'unknown_product',
    )
    const consumable = signJws(appleTransaction({ type: 'Consumable' }), chain)
    expect((await failure(store.verify('gorod', { signedTransaction: consumable }))).kind).toBe(
      'wrong_product_type',
    )
  })

  it('reports a refunded or family-revoked transaction as such, never as purchased', async () => {
    const refunded = signJws(appleTransaction({ revocationDate: Date.now(), revocationReason: 0 }), chain)
    await expect(store.verify('gorod', { signedTransaction: refunded })).resolves.toMatchObject({
      status: 'refunded',
    })
    const revoked = signJws(
      appleTransaction({
        revocationDate: Date.now(),
        revocationType: 'FAMILY_REVOKE',
        inAppOwnershipType: 'FAMILY_SHARED',
      }),
      chain,
    )
    await expect(store.verify('gorod', { signedTransaction: revoked })).resolves.toMatchObject({
      status: 'revoked',
    })
  })

  it("refuses a chain without Apple's marker OIDs", async () => {
    const plain = makeAppleChain({ markers: false })
    const err = await failure(
      make({ rootCertificates: [plain.rootDer] }).verify('gorod', {
        signedTransaction: signJws(appleTransaction(), plain),
      }),
    )
    expect(err.kind).toBe('invalid_proof')
  })

  it('refuses a transaction signed after the leaf certificate expired', async () => {
    const shortLived = makeAppleChain({ leafDays: 1 })
    const jws = signJws(appleTransaction({ signedDate: Date.now() + 3 * 86_400_000 }), shortLived)
    const err = await failure(
      make({ rootCertificates: [shortLived.rootDer] }).verify('gorod', { signedTransaction: jws }),
    )
    expect(err.kind).toBe('invalid_proof')
    expect(err.message).toContain('INVALID_CERTIFICATE')
  })

  it('refuses a chain not rooted in the configured roots, and a two-certificate chain', async () => {
    const stranger = makeAppleChain()
    const err = await failure(
      store.verify('gorod', { signedTransaction: signJws(appleTransaction(), stranger) }),
    )
    expect(err.kind).toBe('invalid_proof')
    const short = signJws(appleTransaction(), chain, {}, chain.x5c.slice(0, 2))
    expect((await failure(store.verify('gorod', { signedTransaction: short }))).kind).toBe('invalid_proof')
  })

  it('refuses any alg other than ES256, even when the signature matches it', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey
    const h = Buffer.from(JSON.stringify({ alg: 'ES384', x5c: chain.x5c })).toString('base64url')
    const p = Buffer.from(JSON.stringify(appleTransaction())).toString('base64url')
    const s = sign('sha384', Buffer.from(`${h}.${p}`), { key: p384, dsaEncoding: 'ieee-p1363' }).toString(
      'base64url',
    )
    expect((await failure(store.verify('gorod', { signedTransaction: `${h}.${p}.${s}` }))).message).toContain(
      'ES384',
    )
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`
    expect((await failure(store.verify('gorod', { signedTransaction: none }))).kind).toBe('invalid_proof')
    const hs = signJws(appleTransaction(), chain, { alg: 'HS256' })
    expect((await failure(store.verify('gorod', { signedTransaction: hs }))).message).toContain('HS256')
  })

  it('refuses garbage and oversized input before any verification', async () => {
    for (const bad of ['a.b.c', '', 'not-a-jws', `${'a'.repeat(40_000)}.b.c`]) {
      expect((await failure(store.verify('gorod', { signedTransaction: bad }))).kind).toBe('invalid_proof')
    }
  })

  it('refuses a tenant with no App Store app', async () => {
    const jws = signJws(appleTransaction(), chain)
    expect((await failure(store.verify('nowhere', { signedTransaction: jws }))).kind).toBe('not_configured')
  })

  it('verifies a signed REFUND notification and its nested transaction, picking the tenant by bundle id', async () => {
    const uuid = crypto.randomUUID()
    const payload = {
      notificationType: 'REFUND',
      notificationUUID: uuid,
      version: '2.0',
      signedDate: Date.now(),
      data: {
        appAppleId: 123456789,
        bundleId: 'ru.gorod.app',
        environment: 'Production',
        signedTransactionInfo: signJws(
          appleTransaction({ revocationDate: Date.now(), revocationReason: 1 }),
          chain,
        ),
      },
    }
    const n = await store.verifyNotification(signJws(payload, chain))
    expect(n).toMatchObject({
      tenant: 'gorod',
      environment: 'production',
      notificationType: 'REFUND',
      notificationUUID: uuid,
    })
    expect(n.transaction).toMatchObject({ storeTransactionId: '2000000123456789', status: 'refunded' })

    const wrongAppleId = { ...payload, data: { ...payload.data, appAppleId: 1 } }
    expect((await failure(store.verifyNotification(signJws(wrongAppleId, chain)))).kind).toBe('wrong_app')
    const foreign = { ...payload, data: { ...payload.data, bundleId: 'com.example.other' } }
    expect((await failure(store.verifyNotification(signJws(foreign, chain)))).kind).toBe('wrong_app')
    const tampered = signJws(payload, chain).split('.')
    tampered[1] = Buffer.from(JSON.stringify({ ...payload, notificationType: 'REFUND_REVERSED' })).toString(
      'base64url',
    )
    expect((await failure(store.verifyNotification(tampered.join('.')))).kind).toBe('invalid_proof')
  })

  it('verifies a TEST notification that carries no transaction', async () => {
    const payload = {
      notificationType: 'TEST',
      notificationUUID: crypto.randomUUID(),
      version: '2.0',
      signedDate: Date.now(),
      data: { appAppleId: 987654321, bundleId: 'ru.progulki.app', environment: 'Sandbox' },
    }
    await expect(store.verifyNotification(signJws(payload, chain))).resolves.toMatchObject({
      tenant: 'progulki',
      environment: 'sandbox',
      notificationType: 'TEST',
      transaction: null,
    })
  })
})
