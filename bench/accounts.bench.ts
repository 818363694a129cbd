import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { configFrom } from '../apps/api/src/config.js'
import {
  generatePrivateJwk,
  issueAccessToken,
  loadKeyRing,
  verifyAccessToken,
} from '../apps/api/src/platform/auth/index.js'
import { load } from './lib/load.js'
import { ROOT, round } from './lib/service.js'

const APP_KEY = { 'X-App-Key': 'dev-gorod-app-key' }

/**
 * In one run against one server process: GET /v1/api/health (the reference), POST /v1/accounts (an
 * account, a refresh token row and a signed token per request, under row-level security), and
 * GET /v1/me (token verification plus the per-request account check); beside them, bare EdDSA
 * verification in this process. `BENCH_DATABASE_URL` measures on Postgres; unset, the embedded default.
 */
export async function run() {
  const url = process.env.BENCH_DATABASE_URL
  const duration = Number(process.env.BENCH_SECONDS ?? 5)
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/lib/health-server.ts', ...(url ? [url] : [])],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  try {
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', resolve),
    )
    const { appPort } = JSON.parse(line) as { appPort: number }
    const base = `http://127.0.0.1:${appPort}`
    const created = await fetch(`${base}/v1/accounts`, { method: 'POST', headers: APP_KEY })
    const { access_token } = (await created.json()) as { access_token: string }
    const me = { url: `${base}/v1/me`, headers: { ...APP_KEY, authorization: `Bearer ${access_token}` } }
    await load({ url: `${base}/v1/api/health`, duration: 2 })
    await load({ ...me, duration: 2 })
    const health = await load({ url: `${base}/v1/api/health`, duration })
    const accounts = await load({
      url: `${base}/v1/accounts`,
      method: 'POST',
      headers: { ...APP_KEY, 'content-type': 'application/json' },
      body: '{}',
      duration,
    })
    const verified = await load({ ...me, duration })
    return {
      database: url ? 'postgres' : 'pglite (embedded default)',
      health,
      'POST /v1/accounts': accounts,
      'GET /v1/me (verify + account check)': verified,
      'EdDSA verifications/s in process (1 core)': await verifyThroughput(),
      'throughput ratio health/accounts': round(health.requests_per_s / Math.max(accounts.requests_per_s, 1)),
      'throughput ratio health/me': round(health.requests_per_s / Math.max(verified.requests_per_s, 1)),
    }
  } finally {
    child.kill('SIGTERM')
  }
}

async function verifyThroughput(): Promise<number> {
  const config = configFrom({ AUTH_SIGNING_KEY: JSON.stringify(await generatePrivateJwk()) }).auth
  const ring = await loadKeyRing(undefined as never, config)
  const token = await issueAccessToken(
    ring,
    { accountId: '7e3fb20b-4cdb-47cc-936d-99d65f608138', tenantSlug: 'gorod' },
    { audience: config.audience, ttlSeconds: 900 },
  )
  const opts = { audience: config.audience }
  for (let i = 0; i < 500; i++) await verifyAccessToken(ring, token, opts)
  const n = 5000
  const started = performance.now()
  for (let i = 0; i < n; i++) await verifyAccessToken(ring, token, opts)
  return round(n / ((performance.now() - started) / 1000), 0)
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
