import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { load } from './lib/load.js'
import { ROOT, round } from './lib/service.js'

/**
 * GET /v1/api/health (a database round trip) next to a bare Hono route served by the same process in
 * the same run. Target: health throughput within 2× of the bare route. `BENCH_DATABASE_URL` measures
 * on Postgres; unset, on the embedded default.
 */
export async function run() {
  const url = process.env.BENCH_DATABASE_URL
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
    const { appPort, barePort } = JSON.parse(line) as { appPort: number; barePort: number }
    // Warm both up so JIT and pools are in the same state.
    await load({ url: `http://127.0.0.1:${barePort}/bare`, duration: 2 })
    await load({ url: `http://127.0.0.1:${appPort}/v1/api/health`, duration: 2 })
    const bare = await load({ url: `http://127.0.0.1:${barePort}/bare` })
    const health = await load({ url: `http://127.0.0.1:${appPort}/v1/api/health` })
    return {
      database: url ? 'postgres' : 'pglite (embedded default)',
      bare,
      health,
      'throughput ratio bare/health': round(bare.requests_per_s / health.requests_per_s),
      'p99 ratio health/bare': round(health.p99_ms / Math.max(bare.p99_ms, 1)),
      target: 'health within 2× of the bare route',
    }
  } finally {
    child.kill('SIGTERM')
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
