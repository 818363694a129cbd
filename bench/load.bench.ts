import { spawn } from 'node:child_process'
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Kysely, sql } from 'kysely'
import { configFrom } from '../apps/api/src/config.js'
import { openDatabase } from '../apps/api/src/platform/db/client.js'
import type { DB } from '../apps/api/src/platform/db/schema.js'
import { createBenchDatabase } from './lib/bench-db.js'
import { load } from './lib/load.js'
import { ROOT, startService } from './lib/service.js'

/**
 * `npm run bench:load`: the service started as in production (its own process, real Postgres,
 * worker in process) under a sustained mixed load — public reads, nearby, search, GeoJSON, and
 * enqueues with repeated keys — while a city ingestion runs. Reports throughput, p50/p99 per route,
 * errors (must be 0) and that every accepted enqueue key produced exactly one run.
 */
const TOKEN = 'bench-admin-token-0123456789'
const APP_KEY = 'dev-gorod-app-key'
const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data/osm')
const DURATION = Number(process.env.BENCH_LOAD_SECONDS ?? 30)
const KEYS = 20

export async function run() {
  const db = await createBenchDatabase()
  const work = mkdtempSync(join(tmpdir(), 'gorod-bench-load-'))
  const extracts = await serveExtracts()
  const env = { DATABASE_URL: db.url, WORK_DIR: join(work, 'work'), LOG_LEVEL: 'warn' }
  try {
    // Data to read: Sergiev Posad ingested from its extract and published, before the load starts.
    await cli(
      [
        'ingest',
        '--type',
        'osm',
        '--city',
        'sergiev-posad',
        '--date',
        '2026-01-01',
        '--file',
        join(DATA, 'sergiev-posad-lavra-2020.osm.pbf'),
      ],
      env,
    )
    await cli(
      [
        'ingest',
        '--type',
        'helpers',
        '--city',
        'sergiev-posad',
        '--date',
        '2026-01-01',
        '--file',
        join(DATA, 'sergiev-posad-lavra-2020.osm.pbf'),
      ],
      env,
    )
    const service = await startService({
      ...env,
      ADMIN_API_TOKEN: TOKEN,
      WORKER_ENABLED: 'true',
      DATABASE_POOL_MAX: '20',
    })
    try {
      const admin = { 'content-type': 'application/json', 'x-admin-token': TOKEN }
      await post(`${service.url}/v1/admin/publishing/sergiev-posad/enqueue`, { date: '2026-01-01' }, admin)
      await waitIdle(db.url)

      // The city ingestion that runs during the load (an extract over HTTP, as in production).
      const ingestion = (await post(
        `${service.url}/v1/admin/ingestion/osm/enqueue`,
        {
          city: 'moscow',
          date: '2026-02-01',
          source: { kind: 'extract', url: `${extracts.url}/moscow-shabolovka-2020.osm.pbf` },
        },
        admin,
      )) as { job_id: string }

      const reads = { 'x-app-key': APP_KEY }
      let k = 0
      const enqueueBody = () =>
        JSON.stringify({ city: 'kazan', date: '2026-03-01', boundary_ref: String(5000 + (k++ % KEYS)) })
      const routes = {
        'GET /v1/cities': { url: `${service.url}/v1/cities`, headers: reads },
        'GET /v1/cities/{slug}/pois': {
          url: `${service.url}/v1/cities/sergiev-posad/pois?limit=50`,
          headers: reads,
        },
        'GET /v1/nearby': {
          url: `${service.url}/v1/nearby?lat=56.3106&lon=38.1304&radius_m=1000&kinds=poi,helper&limit=20`,
          headers: reads,
        },
        'GET /v1/search': {
          url: `${service.url}/v1/search?q=${encodeURIComponent('лавра')}&city=sergiev-posad`,
          headers: reads,
        },
        'GET /v1/cities/{slug}/pois.geojson': {
          url: `${service.url}/v1/cities/sergiev-posad/pois.geojson`,
          headers: reads,
        },
        'POST enqueue (20 repeated keys)': {
          url: service.url,
          requests: [
            {
              method: 'POST' as const,
              path: '/v1/admin/ingestion/helpers/enqueue',
              headers: admin,
              setupRequest: (r: object) => ({ ...r, body: enqueueBody() }),
            },
          ],
        },
      }
      const results = Object.fromEntries(
        await Promise.all(
          Object.entries(routes).map(
            async ([name, opts]) =>
              [name, await load({ ...opts, duration: DURATION, connections: 4 })] as const,
          ),
        ),
      )
      const check = await openDatabase(configFrom({ DATABASE_URL: db.url }).database)
      try {
        const { rows } = await sql<{ keys: number; runs: number }>`
          SELECT count(DISTINCT idempotency_key)::int AS keys, count(*)::int AS runs
          FROM ingestion_run WHERE run_date = '2026-03-01'`.execute(check.db)
        const city = await waitRun(check.db, ingestion.job_id)
        const errors = Object.values(results).reduce((n, r) => n + r.errors + r.non_2xx, 0)
        return {
          seconds: DURATION,
          routes: results,
          'errors (all routes)': errors,
          'enqueue keys used / runs created': `${Math.min(KEYS, results['POST enqueue (20 repeated keys)']!.total)} / ${rows[0]!.runs} (distinct keys ${rows[0]!.keys})`,
          'city ingestion during the load': city,
        }
      } finally {
        await check.close()
      }
    } finally {
      await service.stop()
    }
  } finally {
    extracts.close()
    rmSync(work, { recursive: true, force: true })
    await db.drop()
  }
}

async function post(url: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  return res.json()
}

function cli(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`cli ${args[0]} exited ${code}`))))
  })
}

async function waitIdle(url: string) {
  const check = await openDatabase(configFrom({ DATABASE_URL: url }).database)
  try {
    for (let i = 0; i < 600; i++) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ingestion_run WHERE status IN ('QUEUED', 'RUNNING')`.execute(check.db)
      if (rows[0]!.n === 0) return
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    await check.close()
  }
}

async function waitRun(db: Kysely<DB>, id: string) {
  for (let i = 0; i < 600; i++) {
    const run = await db
      .selectFrom('ingestion_run')
      .select(['status', 'stats', 'error_code'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    if (run.status === 'SUCCEEDED' || run.status === 'FAILED')
      return { status: run.status, stats: run.stats, error: run.error_code }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { status: 'still running' }
}

/** The shared extracts over local HTTP, as a regional extract server would serve them. */
async function serveExtracts() {
  const server = createServer((req, res) => {
    const file = join(DATA, decodeURIComponent((req.url ?? '/').slice(1)))
    try {
      res.writeHead(200, {
        'content-length': statSync(file).size,
        'content-type': 'application/octet-stream',
      })
      createReadStream(file).pipe(res)
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
