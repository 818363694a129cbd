import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { load } from './lib/load.js'
import { ROOT, round } from './lib/service.js'

const APP_KEY = { 'X-App-Key': 'dev-gorod-app-key' }

/**
 * In one run against one server process holding Sergiev Posad (ingested from the shared extract,
 * published, the shipped content imported): GET /v1/api/health (the reference), then with an
 * account token that owns the paid tour, GET /v1/cities/{slug}/catalog (access decided from the
 * account's entitlements) and GET /v1/tours/{id} (the whole owned tour). `BENCH_DATABASE_URL`
 * measures on Postgres; unset, the embedded default.
 */
export async function run() {
  const url = process.env.BENCH_DATABASE_URL
  const duration = Number(process.env.BENCH_SECONDS ?? 5)
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/lib/catalog-server.ts', ...(url ? [url] : [])],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`catalog server exited (${code})`)))
    })
    const { appPort, token, tourId } = JSON.parse(line) as { appPort: number; token: string; tourId: number }
    const base = `http://127.0.0.1:${appPort}`
    const headers = { ...APP_KEY, authorization: `Bearer ${token}` }
    const catalogUrl = `${base}/v1/cities/sergiev-posad/catalog?platform=android`
    const tourUrl = `${base}/v1/tours/${tourId}`
    for (const u of [`${base}/v1/api/health`, catalogUrl, tourUrl])
      await load({ url: u, headers, duration: 2 })
    const health = await load({ url: `${base}/v1/api/health`, duration })
    const catalog = await load({ url: catalogUrl, headers, duration })
    const tour = await load({ url: tourUrl, headers, duration })
    return {
      database: url ? 'postgres' : 'pglite (embedded default)',
      health,
      'GET /v1/cities/sergiev-posad/catalog (account)': catalog,
      'GET /v1/tours/{id} (account, owned)': tour,
      'throughput ratio health/catalog': round(health.requests_per_s / Math.max(catalog.requests_per_s, 1)),
      'throughput ratio health/tour': round(health.requests_per_s / Math.max(tour.requests_per_s, 1)),
    }
  } finally {
    child.kill('SIGTERM')
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
