import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { createApp } from '../apps/api/src/app.js'
import { configFrom } from '../apps/api/src/config.js'
import { systemClock } from '../apps/api/src/platform/clock.js'
import { fromPostgres, openDatabase } from '../apps/api/src/platform/db/client.js'
import { startLocalQueue } from '../apps/api/src/platform/jobs/pgboss-queue.js'
import { createLogger } from '../apps/api/src/platform/log.js'
import { createBenchDatabase } from './lib/bench-db.js'
import { load } from './lib/load.js'
import { freePort, median, percentile, round, startService } from './lib/service.js'

/**
 * Enqueue under concurrency on real Postgres (distinct keys, and one hot key) next to its real
 * reference in the same run and at the same concurrency: the bare durable work of an enqueue, a plain
 * INSERT of the run row plus pg-boss `send()` in one committed transaction, with no HTTP, validation
 * or idempotency read. Then enqueue-to-RUNNING latency on the local transport, on Postgres
 * (LISTEN/NOTIFY wakes the worker) and on the embedded default (polling).
 * Targets: enqueue ≥ 0.7× the reference's throughput, p99 ≤ 1.5× its p99, zero errors; median
 * enqueue-to-RUNNING under 50 ms.
 */
const CONNECTIONS = 20
const DURATION_S = 10
const TOKEN = 'bench-admin-token-0123456789'

export async function run() {
  const db = await createBenchDatabase()
  try {
    const throughput = await enqueueLoad(db.url)
    const refDb = await createBenchDatabase()
    const reference = await insertAndSend(refDb).finally(() => refDb.drop())
    const inDb = await createBenchDatabase()
    const inProcess = await insertAndSend(inDb, 'enqueue').finally(() => inDb.drop())
    const distinct = throughput['enqueue, distinct keys']
    // A database of its own: the backlog of the load above would otherwise be worked first.
    const fresh = await createBenchDatabase()
    const toRunningPostgres = await enqueueToRunning({ DATABASE_URL: fresh.url }).finally(() => fresh.drop())
    const dir = mkdtempSync(join(tmpdir(), 'gorod-bench-enq-'))
    const toRunningPglite = await enqueueToRunning({ PGLITE_DIR: join(dir, 'pglite') })
    rmSync(dir, { recursive: true, force: true })
    return {
      'reference: INSERT run row + pg-boss send() in one transaction': reference,
      'enqueue, distinct keys, admin route in process (same loops, no sockets)': inProcess,
      'throughput ratio enqueue(in process)/reference': round(
        inProcess.requests_per_s / Math.max(reference.requests_per_s, 1),
      ),
      'p99 ratio enqueue(in process)/reference': round(inProcess.p99_ms / Math.max(reference.p99_ms, 1)),
      ...throughput,
      'throughput ratio enqueue(distinct)/reference': round(
        distinct.requests_per_s / Math.max(reference.requests_per_s, 1),
      ),
      'p99 ratio enqueue(distinct)/reference': round(distinct.p99_ms / Math.max(reference.p99_ms, 1)),
      'enqueue → RUNNING, Postgres (LISTEN/NOTIFY)': toRunningPostgres,
      'enqueue → RUNNING, embedded PGlite (polling)': toRunningPglite,
      targets:
        'enqueue ≥ 0.7× reference throughput, p99 ≤ 1.5× reference p99, 0 errors; median enqueue→RUNNING < 50 ms',
      concurrency: CONNECTIONS,
    }
  } finally {
    await db.drop()
  }
}

/**
 * The reference: CONNECTIONS concurrent loops for DURATION_S, each committing one transaction that
 * inserts a run row (distinct key) and sends its pg-boss job through that transaction, on a pool as
 * large as the service's and the same database server. With `mode: 'enqueue'` the same loops call
 * the real admin enqueue route of the app instead (token check, validation, the enqueue service,
 * its JSON answer) through `app.request`: the service's own cost of an enqueue next to the bare
 * durable work, without the sockets and the load generator the HTTP figures below also pay for.
 */
async function insertAndSend(
  database: Awaited<ReturnType<typeof createBenchDatabase>>,
  mode: 'reference' | 'enqueue' = 'reference',
) {
  const pool = fromPostgres(database.url, 10)
  // Configured as the service configures it on Postgres (a LISTEN session, a notify queue), so the
  // reference's send() does what the service's does, NOTIFY included.
  const queue = await startLocalQueue({
    database: pool,
    connectionString: database.url,
    log: createLogger('silent'),
    maxAttempts: 5,
    leaseSeconds: 120,
    worker: null,
    cron: null,
  })
  try {
    const { rows } = await sql<{ id: number }>`SELECT id FROM cities WHERE slug = 'moscow'`.execute(pool.db)
    const cityId = rows[0]!.id
    let counter = 0
    let errors = 0
    const latencies: number[] = []
    const config = configFrom({ DATABASE_URL: database.url, ADMIN_API_TOKEN: TOKEN, JOB_MAX_ATTEMPTS: '5' })
    const app = createApp({
      config,
      database: pool,
      log: createLogger('silent'),
      clock: systemClock,
      version: 'bench',
      startedAt: Date.now(),
      jobs: queue,
    })
    const headers = { 'content-type': 'application/json', 'x-admin-token': TOKEN }
    const viaRoute = async (n: number) => {
      const res = await app.request('/v1/admin/ingestion/osm/enqueue', {
        method: 'POST',
        headers,
        body: JSON.stringify({ city: 'moscow', date: '2026-01-01', boundary_ref: String(n) }),
      })
      if (res.status !== 202) throw new Error(`enqueue answered ${res.status}`)
      await res.arrayBuffer()
    }
    const once = async () => {
      const n = ++counter
      const started = performance.now()
      if (mode === 'enqueue') await viaRoute(n)
      else
        await pool.db.transaction().execute(async (trx) => {
          const run = await trx
            .insertInto('ingestion_run')
            .values({
              type: 'osm',
              city_id: cityId,
              boundary_ref: String(n),
              run_date: '2026-01-01',
              idempotency_key: `osm|moscow|${n}|2026-01-01`,
              source: JSON.stringify({ kind: 'overpass' }),
              trigger: 'admin',
              max_attempts: 5,
            })
            .onConflict((oc) => oc.column('idempotency_key').doNothing())
            .returning('id')
            .executeTakeFirstOrThrow()
          await queue.dispatch(run.id, trx)
        })
      latencies.push(performance.now() - started)
    }
    const until = performance.now() + DURATION_S * 1000
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < until) await once().catch(() => errors++)
      }),
    )
    return {
      requests_per_s: round(latencies.length / DURATION_S, 0),
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
      errors,
      total: latencies.length,
    }
  } finally {
    await queue.stop()
    await pool.close()
  }
}

async function enqueueLoad(databaseUrl: string) {
  const service = await startService({
    DATABASE_URL: databaseUrl,
    ADMIN_API_TOKEN: TOKEN,
    WORKER_ENABLED: 'false',
  })
  try {
    const headers = { 'content-type': 'application/json', 'x-admin-token': TOKEN }
    const path = '/v1/admin/ingestion/osm/enqueue'
    let counter = 0
    const distinctBody = () =>
      JSON.stringify({ city: 'moscow', date: '2026-01-01', boundary_ref: String(++counter) })
    await load({ url: `${service.url}/v1/api/health`, duration: 2 })
    const health = await load({ url: `${service.url}/v1/api/health` })
    const distinct = await load({
      url: service.url,
      requests: [
        { method: 'POST', path, headers, setupRequest: (req) => ({ ...req, body: distinctBody() }) },
      ],
    })
    const hot = await load({
      url: service.url,
      requests: [
        { method: 'POST', path, headers, body: JSON.stringify({ city: 'moscow', date: '2026-01-02' }) },
      ],
    })
    const check = await openDatabase(configFrom({ DATABASE_URL: databaseUrl }).database)
    const { rows } = await sql<{ runs: number; hot: number }>`
      SELECT count(*)::int AS runs, count(*) FILTER (WHERE run_date = '2026-01-02')::int AS hot
      FROM ingestion_run`.execute(check.db)
    await check.close()
    return {
      health,
      'enqueue, distinct keys': distinct,
      'enqueue, one hot key': hot,
      'runs created (distinct requests answered)': `${rows[0]!.runs - rows[0]!.hot} (${distinct.total - distinct.non_2xx})`,
      'runs for the hot key': rows[0]!.hot,
    }
  } finally {
    await service.stop()
  }
}

/** Runs whose ingestion fails at once (Overpass unreachable): we only time the start. */
async function enqueueToRunning(dbEnv: Record<string, string>) {
  const closedPort = await freePort()
  const service = await startService({
    ...dbEnv,
    ADMIN_API_TOKEN: TOKEN,
    WORKER_ENABLED: 'true',
    OVERPASS_URLS: `http://127.0.0.1:${closedPort}/api/interpreter`,
    OVERPASS_MAX_TRIES: '1',
    JOB_MAX_ATTEMPTS: '1',
  })
  const ids: string[] = []
  try {
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${service.url}/v1/admin/ingestion/helpers/enqueue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-admin-token': TOKEN },
        body: JSON.stringify({ city: 'kazan', date: '2026-03-01', boundary_ref: String(9000 + i) }),
      })
      ids.push(((await res.json()) as { job_id: string }).job_id)
      // Spaced wider than a run takes, so this measures how fast an idle worker starts a run, not a
      // backlog (one worker on PGlite takes one run per 0.5 s poll).
      await new Promise((r) => setTimeout(r, 600))
    }
    const latencies: number[] = []
    for (const id of ids) {
      for (let tries = 0; tries < 100; tries++) {
        const job = (await (
          await fetch(`${service.url}/v1/jobs/${id}`, { headers: { 'x-admin-token': TOKEN } })
        ).json()) as { created_at: string; started_at: string | null }
        if (job.started_at) {
          latencies.push(Date.parse(job.started_at) - Date.parse(job.created_at))
          break
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    return {
      runs: latencies.length,
      median_ms: median(latencies),
      p90_ms: percentile(latencies, 90),
      max_ms: Math.max(...latencies),
    }
  } finally {
    await service.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
