import { generateKeyPairSync } from 'node:crypto'
import { createAppleStore } from '../apps/api/src/modules/purchases/stores/apple.js'
import { createRuStoreStore } from '../apps/api/src/modules/purchases/stores/rustore.js'
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
    }
  } finally {
    await fake.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
