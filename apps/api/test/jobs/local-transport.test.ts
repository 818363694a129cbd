import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configFrom } from '../../src/config.js'
import { enqueueDaily } from '../../src/modules/jobs/index.js'
import { RUN_QUEUE, startLocalQueue } from '../../src/platform/jobs/pgboss-queue.js'
import type { JobHandlers } from '../../src/platform/jobs/types.js'
import { TransientJobError } from '../../src/platform/jobs/types.js'
import { createLogger } from '../../src/platform/log.js'
import { json, jsonRequest } from '../helpers/http.js'
import { waitForStatus } from '../helpers/jobs.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'

/** Enqueue over HTTP → pg-boss on the same database → worker → a finished run, end to end. */
describe('local transport (pg-boss)', () => {
  let database: TestDatabase
  let t: TestApp
  let queue: Awaited<ReturnType<typeof startLocalQueue>>
  const calls: Record<string, number> = {}
  let failuresLeft = 1

  const handlers: JobHandlers = {
    osm: async (ctx) => {
      calls[ctx.run.id] = (calls[ctx.run.id] ?? 0) + 1
      await ctx.progress({ phase: 'work', done: 1, total: 1 })
      return { status: 'succeeded', stats: { city: ctx.run.citySlug } }
    },
    helpers: async (ctx) => {
      calls[ctx.run.id] = (calls[ctx.run.id] ?? 0) + 1
      if (failuresLeft-- > 0) throw new TransientJobError('UPSTREAM_UNAVAILABLE', 'first try fails')
      return { status: 'succeeded', stats: { attempt: ctx.run.attempts } }
    },
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    queue = await startLocalQueue({
      database,
      ...(database.url ? { connectionString: database.url } : {}),
      log: createLogger('silent'),
      maxAttempts: 3,
      leaseSeconds: 30,
      worker: { handlers, concurrency: 2 },
      cron: null,
    })
    t = await createTestApp({}, { jobs: queue, jobHandlers: handlers }, database)
  })
  afterAll(async () => {
    await t.close()
    await database.close()
  })

  it('runs an enqueued job to SUCCEEDED exactly once', async () => {
    const res = await t.app.request(
      '/v1/admin/ingestion/osm/enqueue',
      jsonRequest({ city: 'moscow', date: '2028-01-01' }, { 'X-Admin-Token': ADMIN_TOKEN }),
    )
    const { job_id } = await json(res)
    const run = await waitForStatus(database.db, job_id, ['SUCCEEDED', 'FAILED'])
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 1, stats: { city: 'moscow' } })
    // A second identical enqueue is a replay: no second delivery.
    await t.app.request(
      '/v1/admin/ingestion/osm/enqueue',
      jsonRequest({ city: 'moscow', date: '2028-01-01' }, { 'X-Admin-Token': ADMIN_TOKEN }),
    )
    await new Promise((r) => setTimeout(r, 1200))
    expect(calls[job_id]).toBe(1)
  })

  it('retries a transient failure with backoff and then succeeds', async () => {
    const res = await t.app.request(
      '/v1/admin/ingestion/helpers/enqueue',
      jsonRequest({ city: 'moscow', date: '2028-01-01' }, { 'X-Admin-Token': ADMIN_TOKEN }),
    )
    const { job_id } = await json(res)
    const run = await waitForStatus(database.db, job_id, ['SUCCEEDED', 'FAILED'], 60_000)
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 2, stats: { attempt: 2 } })
    expect(calls[job_id]).toBe(2)
  })

  it('never delivers a run whose creating transaction rolled back', async () => {
    const count = async () =>
      (
        await sql<{ n: number }>`SELECT count(*)::int AS n FROM pgboss.job WHERE name = ${RUN_QUEUE}`.execute(
          database.db,
        )
      ).rows[0]!.n
    const before = await count()
    await database.db
      .transaction()
      .execute(async (trx) => {
        const city = await trx
          .selectFrom('cities')
          .select('id')
          .where('slug', '=', 'kazan')
          .executeTakeFirstOrThrow()
        const run = await trx
          .insertInto('ingestion_run')
          .values({
            type: 'osm',
            city_id: city.id,
            boundary_ref: '1',
            run_date: '2028-02-02',
            idempotency_key: 'osm|kazan|1|2028-02-02',
            source: JSON.stringify({ kind: 'overpass' }),
            trigger: 'admin',
            max_attempts: 3,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
        await queue.dispatch(run.id, trx)
        throw new Error('rollback')
      })
      .catch(() => {})
    expect(await count()).toBe(before)
    const runs = await database.db
      .selectFrom('ingestion_run')
      .select('id')
      .where('run_date', '=', '2028-02-02')
      .execute()
    expect(runs).toHaveLength(0)
  })

  it('the daily schedule enqueues osm and helpers for every active city, once per date', async () => {
    const config = configFrom()
    const deps = {
      database,
      clock: { now: () => new Date('2029-06-01T12:00:00Z') },
      config,
      log: createLogger('silent'),
      jobs: null,
    }
    const first = await enqueueDaily(deps)
    const cities = await database.db.selectFrom('cities').select('slug').where('active', '=', true).execute()
    expect(first).toHaveLength(cities.length * 2)
    expect(first.every((r) => !r.deduplicated)).toBe(true)
    const second = await enqueueDaily(deps)
    expect(second.every((r) => r.deduplicated)).toBe(true)
    expect(second.map((r) => r.job_id)).toEqual(first.map((r) => r.job_id))
  })
})
