import { createCipheriv, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import { expect } from 'vitest'
import { configFrom } from '../../src/config.js'
import { createPurchaseHandlers } from '../../src/modules/purchases/index.js'
import { systemClock } from '../../src/platform/clock.js'
import type { DB } from '../../src/platform/db/schema.js'
import { executeRun } from '../../src/platform/jobs/worker.js'
import { appleTransaction, makeAppleChain, signJws, type TestChain } from '../helpers/apple-chain.js'
import { json } from '../helpers/http.js'
import { type RuStoreFake, startRuStoreFake } from '../helpers/rustore-fake.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'

export const gorod = { 'X-App-Key': DEV_KEYS.gorod }
export const progulki = { 'X-App-Key': DEV_KEYS.progulki }
export const APPS = {
  gorod: { bundleId: 'ru.gorod.app', appAppleId: 123456789, rustoreAppId: 3399750 },
  progulki: { bundleId: 'ru.progulki.app', appAppleId: 987654321, rustoreAppId: 4400001 },
}

/** A service with both stores live: a generated Apple-shaped chain, a local RuStore, three items. */
export interface PurchaseWorld {
  t: TestApp
  chain: TestChain
  fake: RuStoreFake
  notificationKey: Buffer
  items: { paid: number; free: number; shared: number }
  close(): Promise<void>
}

export async function startPurchaseWorld(env: Record<string, string> = {}): Promise<PurchaseWorld> {
  const chain = makeAppleChain()
  const dir = mkdtempSync(join(tmpdir(), 'gorod-purchases-'))
  writeFileSync(join(dir, 'root.der'), chain.rootDer)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const fake = await startRuStoreFake({ keyId: 'key-1', publicKey: rsa.publicKey })
  const notificationKey = randomBytes(32)
  const t = await createTestApp({
    APPLE_ENABLED: 'true',
    APPLE_ROOT_CERT_FILES: join(dir, 'root.der'),
    APPLE_APPS: `gorod:${APPS.gorod.bundleId}:${APPS.gorod.appAppleId},progulki:${APPS.progulki.bundleId}:${APPS.progulki.appAppleId}`,
    RUSTORE_ENABLED: 'true',
    RUSTORE_API_URL: fake.url,
    RUSTORE_KEY_ID: 'key-1',
    RUSTORE_PRIVATE_KEY: (rsa.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString(
      'base64',
    ),
    RUSTORE_APPS: `gorod:${APPS.gorod.rustoreAppId},progulki:${APPS.progulki.rustoreAppId}`,
    RUSTORE_TIMEOUT_MS: '1500',
    RUSTORE_NOTIFICATION_KEY: notificationKey.toString('base64'),
    PURCHASE_CLAIM_RETRY_SECONDS: '30',
    ...env,
  })
  const items = await seedItems(t.database.db)
  return {
    t,
    chain,
    fake,
    notificationKey,
    items,
    async close() {
      await t.close()
      await fake.close()
    },
  }
}

async function seedItems(db: Kysely<DB>) {
  const city = await db
    .selectFrom('cities')
    .select('id')
    .where('slug', '=', 'moscow')
    .executeTakeFirstOrThrow()
  const tenants = Object.fromEntries(
    (await db.selectFrom('tenants').select(['id', 'slug']).execute()).map((r) => [r.slug, r.id]),
  )
  const item = async (slug: string, paid: boolean) =>
    Number(
      (
        await db
          .insertInto('catalog_item')
          .values({
            city_id: city.id,
            slug,
            kind: 'tour',
            title_ru: `Тур ${slug}`,
            summary_ru: 'Прогулка',
            paid,
            status: 'published',
            content_hash: slug,
            published_at: new Date(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    )
  const paid = await item('shukhov-paid', true)
  const free = await item('shukhov-free', false)
  const shared = await item('lavra-shared', true)
  await db
    .insertInto('catalog_offer')
    .values([
      {
        item_id: paid,
        tenant_id: tenants.gorod!,
        apple_product_id: 'ru.gorod.app.tour.moscow',
        rustore_product_id: 'tour_moscow',
      },
      { item_id: free, tenant_id: tenants.gorod!, apple_product_id: null, rustore_product_id: null },
      {
        item_id: shared,
        tenant_id: tenants.gorod!,
        apple_product_id: 'ru.gorod.app.tour.lavra',
        rustore_product_id: 'tour_lavra',
      },
      {
        item_id: shared,
        tenant_id: tenants.progulki!,
        apple_product_id: 'ru.progulki.app.lavra',
        rustore_product_id: null,
      },
    ])
    .execute()
  return { paid, free, shared }
}

export async function newAccount(t: TestApp, app: Record<string, string> = gorod) {
  const res = await t.app.request('/v1/accounts', { method: 'POST', headers: app })
  expect(res.status).toBe(201)
  const body = await json(res)
  return {
    id: body.account_id as string,
    headers: { ...app, Authorization: `Bearer ${body.access_token}`, 'content-type': 'application/json' },
  }
}

export async function intent(
  t: TestApp,
  headers: Record<string, string>,
  itemId: number,
  store: 'apple' | 'rustore',
) {
  return t.app.request('/v1/purchases/intents', {
    method: 'POST',
    headers,
    body: JSON.stringify({ catalog_item_id: itemId, store }),
  })
}

let txCounter = 2_000_000_500_000_000

/** A StoreKit 2 transaction of the gorod app, signed by the world's chain, bound to `token`. */
export function appleJws(
  w: PurchaseWorld,
  token: string | undefined,
  overrides: Record<string, unknown> = {},
) {
  txCounter++
  return signJws(
    appleTransaction({
      transactionId: String(txCounter),
      originalTransactionId: String(txCounter),
      ...(token ? { appAccountToken: token } : { appAccountToken: undefined }),
      ...overrides,
    }),
    w.chain,
  )
}

/** An App Store Server Notification V2 about a signed transaction. */
export function appleNotification(
  w: PurchaseWorld,
  type: string,
  signedTransactionInfo: string | undefined,
  app = APPS.gorod,
  uuid = randomUUID(),
) {
  return signJws(
    {
      notificationType: type,
      notificationUUID: uuid,
      version: '2.0',
      signedDate: Date.now(),
      data: {
        bundleId: app.bundleId,
        appAppleId: app.appAppleId,
        environment: 'Production',
        ...(signedTransactionInfo ? { signedTransactionInfo } : {}),
      },
    },
    w.chain,
  )
}

/** RuStore's notification body: base64(IV ‖ AES-256-GCM ciphertext ‖ tag) of the JSON payload. */
export function rustoreNotification(key: Buffer, payload: unknown, id = randomUUID()) {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()])
  return {
    id,
    timestamp: new Date().toISOString(),
    payload: Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64'),
  }
}

/** Works one queued run of a purchase job type as the worker would. */
export async function work(w: PurchaseWorld, runId: string) {
  return executeRun(runId, {
    db: w.t.database.db,
    log: w.t.deps.log,
    handlers: createPurchaseHandlers({
      config: w.t.deps.config ?? configFrom(),
      clock: systemClock,
      jobs: () => null,
    }),
    leaseSeconds: 60,
  })
}

export async function queuedRuns(db: Kysely<DB>, type: 'purchase_claim' | 'store_event') {
  return db
    .selectFrom('ingestion_run')
    .select(['id', 'status', 'source', 'error_code'])
    .where('type', '=', type)
    .where('status', '=', 'QUEUED')
    .orderBy('created_at')
    .execute()
}
