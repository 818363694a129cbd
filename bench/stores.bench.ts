import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../apps/api/src/app.js'
import { buildDeps, prepareDatabase } from '../apps/api/src/bootstrap.js'
import { configFrom } from '../apps/api/src/config.js'
import { createAppleStore } from '../apps/api/src/modules/purchases/stores/apple.js'
import { createRuStoreStore } from '../apps/api/src/modules/purchases/stores/rustore.js'
import { createLogger } from '../apps/api/src/platform/log.js'
import { appleTransaction, makeAppleChain, signJws } from '../apps/api/test/helpers/apple-chain.js'
import { startRuStoreFake } from '../apps/api/test/helpers/rustore-fake.js'
import { run as healthRun } from './health.bench.js'
import { round } from './lib/service.js'

/**
 * Store confirmation throughput next to GET /v1/api/health in the same run: App Store offline
 * verification (SignedDataVerifier on a generated Apple-shaped chain: chain, signature, claims) and
 * RuStore confirmation (token cached, one v2 invoice read each) against the local RuStore stand-in.
 * Bounded: a fixed count of operations each; prints figures, never judges them.
 */
const APPLE_OPS = 2000
const RUSTORE_OPS = 2000
const CONFIRM_OPS = 300
const CONCURRENCY = 10

async function timed(total: number, concurrency: number, op: (i: number) => Promise<unknown>) {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await op(next++)
    }),
  )
  const seconds = (performance.now() - started) / 1000
  return { ops: total, seconds: round(seconds), per_s: round(total / seconds) }
}

export async function run() {
  const health = await healthRun()

  const chain = makeAppleChain()
  const apple = createAppleStore({
    rootCertificates: [chain.rootDer],
    apps: { gorod: { bundleId: 'ru.gorod.app', appAppleId: 123456789 } },
    onlineChecks: false,
    acceptSandbox: true,
    isKnownProduct: () => true,
  })
  // Distinct transactions, so nothing but the library's own per-chain key cache is reused.
  const jws = Array.from({ length: APPLE_OPS }, (_, i) =>
    signJws(appleTransaction({ transactionId: String(2_000_000_000_000_000 + i) }), chain),
  )
  await apple.verify('gorod', { signedTransaction: jws[0]! })
  const appleFigures = await timed(APPLE_OPS, 1, (i) => apple.verify('gorod', { signedTransaction: jws[i]! }))

  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const fake = await startRuStoreFake({ keyId: 'bench', publicKey: keys.publicKey })
  try {
    for (let i = 0; i < 100; i++)
      fake.invoices.set(String(1000 + i), { invoiceId: 1000 + i, appId: 3399750, invoiceStatus: 'CONFIRMED' })
    const rustore = createRuStoreStore({
      apiUrl: fake.url,
      keyId: 'bench',
      privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      apps: { gorod: { appId: 3399750 } },
      timeoutMs: 8000,
      timestampOffset: '+03:00',
      acceptSandbox: true,
      isKnownProduct: () => true,
    })
    await rustore.verify('gorod', { invoiceId: '1000' })
    const rustoreFigures = await timed(RUSTORE_OPS, CONCURRENCY, (i) =>
      rustore.verify('gorod', { invoiceId: String(1000 + (i % 100)) }),
    )
    return {
      health: {
        requests_per_s: health.health.requests_per_s,
        p99_ms: health.health.p99_ms,
        database: health.database,
      },
      apple_offline_verification: { ...appleFigures, concurrency: 1 },
      rustore_confirmation_local: {
        ...rustoreFigures,
        concurrency: CONCURRENCY,
        token_requests: fake.counts.auth,
      },
      apple_confirm_route: await confirmThroughTheApp(chain),
    }
  } finally {
    await fake.close()
  }
}

/**
 * The whole confirmation as the app asks for it, in process: POST /v1/purchases/apple with a token,
 * offline verification, the intent binding, the ledger row, its state and the entitlement in one
 * transaction, then the entitlements read back. One fresh account, intent and transaction per call,
 * on a throwaway embedded database.
 */
async function confirmThroughTheApp(chain: ReturnType<typeof makeAppleChain>) {
  const dir = mkdtempSync(join(tmpdir(), 'gorod-bench-stores-'))
  writeFileSync(join(dir, 'root.der'), chain.rootDer)
  // A throwaway embedded database: the bench never migrates a shared server database.
  const config = configFrom({
    PGLITE_DIR: 'memory://',
    APPLE_ENABLED: 'true',
    APPLE_ROOT_CERT_FILES: join(dir, 'root.der'),
    APPLE_APPS: 'gorod:ru.gorod.app:123456789',
  })
  const log = createLogger('silent')
  const database = await prepareDatabase(config, log)
  try {
    const { db } = database
    const stamp = Date.now().toString(36)
    const city = await db
      .selectFrom('cities')
      .select('id')
      .where('slug', '=', 'moscow')
      .executeTakeFirstOrThrow()
    const tenant = await db
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', 'gorod')
      .executeTakeFirstOrThrow()
    const item = await db
      .insertInto('catalog_item')
      .values({
        city_id: city.id,
        slug: `bench-${stamp}`,
        kind: 'tour',
        title_ru: 'Тур',
        summary_ru: 'Прогулка',
        paid: true,
        status: 'published',
        content_hash: stamp,
        published_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    const productId = `ru.gorod.app.bench.${stamp}`
    await db
      .insertInto('catalog_offer')
      .values({
        item_id: item.id,
        tenant_id: tenant.id,
        apple_product_id: productId,
        rustore_product_id: null,
      })
      .execute()
    const app = createApp(buildDeps(config, database, log))
    const headers = { 'X-App-Key': 'dev-gorod-app-key', 'content-type': 'application/json' }
    const prepared: Array<{ auth: Record<string, string>; body: string }> = []
    for (let i = 0; i < CONFIRM_OPS; i++) {
      const account = (await (
        await app.request('/v1/accounts', { method: 'POST', headers: { 'X-App-Key': headers['X-App-Key'] } })
      ).json()) as {
        access_token: string
      }
      const auth = { ...headers, authorization: `Bearer ${account.access_token}` }
      const intent = (await (
        await app.request('/v1/purchases/intents', {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ catalog_item_id: Number(item.id), store: 'apple' }),
        })
      ).json()) as { app_account_token: string }
      const jws = signJws(
        appleTransaction({
          transactionId: `${stamp}${i}`,
          originalTransactionId: `${stamp}${i}`,
          productId,
          appAccountToken: intent.app_account_token,
        }),
        chain,
      )
      prepared.push({ auth, body: JSON.stringify({ signed_transaction: jws }) })
    }
    let failures = 0
    let firstFailure: string | null = null
    const figures = await timed(CONFIRM_OPS, CONCURRENCY, async (i) => {
      const res = await app.request('/v1/purchases/apple', {
        method: 'POST',
        headers: prepared[i]!.auth,
        body: prepared[i]!.body,
      })
      if (res.status !== 200) {
        failures++
        firstFailure ??= `${res.status} ${await res.text()}`
      } else await res.arrayBuffer()
    })
    return {
      ...figures,
      concurrency: CONCURRENCY,
      non_200: failures,
      ...(firstFailure ? { first_failure: firstFailure } : {}),
      database: 'pglite (in memory)',
    }
  } finally {
    await database.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
