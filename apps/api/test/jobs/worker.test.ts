import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configFrom } from '../../src/config.js'
import { cancelRun } from '../../src/modules/jobs/jobs.service.js'
import { systemClock } from '../../src/platform/clock.js'
import { reapExpiredRuns } from '../../src/platform/jobs/runs.js'
import { type JobHandler, PermanentJobError, TransientJobError } from '../../src/platform/jobs/types.js'
import { executeRun, type WorkerOptions } from '../../src/platform/jobs/worker.js'
import { createLogger } from '../../src/platform/log.js'
import { createRun, runRow } from '../helpers/jobs.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'

describe('the worker: claim, outcome, retries, cancellation', () => {
  let database: TestDatabase
  const log = createLogger('silent')
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(() => database.close())

  const opts = (handler: JobHandler, extra: Partial<WorkerOptions> = {}): WorkerOptions => ({
    db: database.db,
    log,
    handlers: { osm: handler, helpers: handler },
    leaseSeconds: 30,
    ...extra,
  })

  it('runs a queued run once and records its stats; a duplicate delivery does nothing', async () => {
    const run = await createRun(database)
    let calls = 0
    const handler: JobHandler = async (ctx) => {
      calls++
      await ctx.progress({ phase: 'work', done: 1, total: 1 })
      return { status: 'succeeded', stats: { kept: 7 } }
    }
    expect(await executeRun(run.id, opts(handler))).toMatchObject({ outcome: 'succeeded' })
    expect(await executeRun(run.id, opts(handler))).toEqual({ outcome: 'not_claimed' })
    expect(calls).toBe(1)
    const row = await runRow(database.db, run.id)
    expect(row).toMatchObject({ status: 'SUCCEEDED', attempts: 1, stats: { kept: 7 }, error_code: null })
    expect(row.finished_at).toBeInstanceOf(Date)
    expect(row.progress).toMatchObject({ phase: 'work', done: 1 })
  })

  it('lets only one of two competing workers run a job', async () => {
    const run = await createRun(database)
    let calls = 0
    const slow: JobHandler = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 200))
      return { status: 'succeeded', stats: {} }
    }
    const results = await Promise.all([
      executeRun(run.id, opts(slow, { workerId: 'worker-a' })),
      executeRun(run.id, opts(slow, { workerId: 'worker-b' })),
    ])
    expect(calls).toBe(1)
    expect(results.map((r) => r.outcome).sort()).toEqual(['not_claimed', 'succeeded'])
  })

  it('fails a run permanently with the handler’s code, without retrying', async () => {
    const run = await createRun(database)
    const result = await executeRun(
      run.id,
      opts(async () => {
        throw new PermanentJobError('SOURCE_INVALID', 'not an OSM file')
      }),
    )
    expect(result).toMatchObject({ outcome: 'failed', code: 'SOURCE_INVALID' })
    expect(await runRow(database.db, run.id)).toMatchObject({
      status: 'FAILED',
      error_code: 'SOURCE_INVALID',
      error_message: 'not an OSM file',
      attempts: 1,
    })
  })

  it('fails a run of an unknown type instead of pretending', async () => {
    const run = await createRun(database, { type: 'helpers' })
    const result = await executeRun(run.id, { db: database.db, log, handlers: {}, leaseSeconds: 30 })
    expect(result).toMatchObject({ outcome: 'failed', code: 'UNKNOWN_JOB_TYPE' })
  })

  it('hands a transient failure back for retry, then fails after the last attempt', async () => {
    const run = await createRun(database, { maxAttempts: 2 })
    const flaky: JobHandler = async () => {
      throw new TransientJobError('UPSTREAM_UNAVAILABLE', 'overpass down')
    }
    expect(await executeRun(run.id, opts(flaky))).toMatchObject({
      outcome: 'retry',
      code: 'UPSTREAM_UNAVAILABLE',
    })
    expect(await runRow(database.db, run.id)).toMatchObject({
      status: 'QUEUED',
      attempts: 1,
      error_code: 'UPSTREAM_UNAVAILABLE',
    })
    expect(await executeRun(run.id, opts(flaky))).toMatchObject({
      outcome: 'failed',
      code: 'UPSTREAM_UNAVAILABLE',
    })
    expect(await runRow(database.db, run.id)).toMatchObject({ status: 'FAILED', attempts: 2 })
  })

  it('treats an unexpected exception as transient with code INTERNAL', async () => {
    const run = await createRun(database, { maxAttempts: 1 })
    const result = await executeRun(
      run.id,
      opts(async () => {
        throw new TypeError('undefined is not a function')
      }),
    )
    expect(result).toMatchObject({ outcome: 'failed', code: 'INTERNAL' })
  })

  it('stops a running run at its next batch when an operator cancels it', async () => {
    const run = await createRun(database)
    const config = configFrom()
    let batches = 0
    const looping: JobHandler = async (ctx) => {
      for (;;) {
        batches++
        if (batches === 3) {
          await cancelRun({ database, clock: systemClock, config, log, jobs: null }, ctx.run.id)
        }
        await ctx.progress({ phase: 'upsert', done: batches })
      }
    }
    expect(await executeRun(run.id, opts(looping))).toEqual({ outcome: 'cancelled' })
    expect(batches).toBe(3)
    expect(await runRow(database.db, run.id)).toMatchObject({ status: 'CANCELLED' })
  })

  it('yields at the slice deadline with its checkpoint, refunding the attempt, and continues from it', async () => {
    const run = await createRun(database)
    const seen: unknown[] = []
    const sliced: JobHandler = async (ctx) => {
      seen.push(ctx.run.checkpoint)
      const at = (ctx.run.checkpoint as { at: number } | null)?.at ?? 0
      for (let i = at; i < 5; i++) {
        await ctx.saveCheckpoint({ at: i + 1 })
        if (ctx.shouldYield() && i + 1 < 5) return { status: 'yielded' }
      }
      return { status: 'succeeded', stats: { batches: 5 } }
    }
    const first = await executeRun(run.id, opts(sliced, { sliceMs: 0 }))
    expect(first).toEqual({ outcome: 'yielded' })
    expect(await runRow(database.db, run.id)).toMatchObject({
      status: 'QUEUED',
      attempts: 0,
      checkpoint: { at: 1 },
    })
    let result = first
    while (result.outcome === 'yielded') result = await executeRun(run.id, opts(sliced, { sliceMs: 0 }))
    expect(result).toMatchObject({ outcome: 'succeeded', stats: { batches: 5 } })
    expect(seen).toEqual([null, { at: 1 }, { at: 2 }, { at: 3 }, { at: 4 }])
    expect(await runRow(database.db, run.id)).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 1,
      checkpoint: null,
    })
  })

  it('recovers a run whose worker died: after the lease another worker takes it over', async () => {
    const run = await createRun(database)
    // Worker A claims and then "dies": its handler never returns and never heartbeats again.
    const dead = new Promise<never>(() => {})
    void executeRun(
      run.id,
      opts(() => dead, { workerId: 'worker-dead', leaseSeconds: 3600 }),
    )
    await new Promise((r) => setTimeout(r, 100))
    expect(await runRow(database.db, run.id)).toMatchObject({ status: 'RUNNING', worker_id: 'worker-dead' })

    // While the lease holds, another delivery may not take it.
    const ok: JobHandler = async () => ({ status: 'succeeded', stats: { recovered: true } })
    expect(await executeRun(run.id, opts(ok, { workerId: 'worker-b', leaseSeconds: 60 }))).toEqual({
      outcome: 'not_claimed',
    })
    // The lease runs out (time travel: the last heartbeat was long ago).
    await sql`UPDATE ingestion_run SET heartbeat_at = now() - interval '10 minutes' WHERE id = ${run.id}`.execute(
      database.db,
    )
    expect(await reapExpiredRuns(database.db, 60)).toEqual([run.id])
    expect(await executeRun(run.id, opts(ok, { workerId: 'worker-b', leaseSeconds: 60 }))).toMatchObject({
      outcome: 'succeeded',
    })
    expect(await runRow(database.db, run.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2 })
  })

  it('fails a lost run that has no attempts left, and cancels a lost run that was being cancelled', async () => {
    const spent = await createRun(database, { maxAttempts: 1 })
    const cancelling = await createRun(database)
    for (const id of [spent.id, cancelling.id]) {
      await sql`UPDATE ingestion_run SET status = 'RUNNING', attempts = 1, worker_id = 'gone',
                heartbeat_at = now() - interval '1 hour' WHERE id = ${id}`.execute(database.db)
    }
    await sql`UPDATE ingestion_run SET cancel_requested = true WHERE id = ${cancelling.id}`.execute(
      database.db,
    )
    expect(await reapExpiredRuns(database.db, 60)).toEqual([])
    expect(await runRow(database.db, spent.id)).toMatchObject({ status: 'FAILED', error_code: 'WORKER_LOST' })
    expect(await runRow(database.db, cancelling.id)).toMatchObject({ status: 'CANCELLED' })
  })

  it('lets a worker that lost its lease finish nothing: the new holder’s result stands', async () => {
    const run = await createRun(database)
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const slowA: JobHandler = async (ctx) => {
      await gate
      await ctx.progress({ phase: 'late' })
      return { status: 'succeeded', stats: { by: 'a' } }
    }
    const a = executeRun(run.id, opts(slowA, { workerId: 'worker-a' }))
    await new Promise((r) => setTimeout(r, 50))
    await sql`UPDATE ingestion_run SET heartbeat_at = now() - interval '1 hour' WHERE id = ${run.id}`.execute(
      database.db,
    )
    const b = await executeRun(
      run.id,
      opts(async () => ({ status: 'succeeded', stats: { by: 'b' } }), { workerId: 'worker-b' }),
    )
    expect(b).toMatchObject({ outcome: 'succeeded' })
    release()
    expect(await a).toEqual({ outcome: 'lost' })
    expect(await runRow(database.db, run.id)).toMatchObject({ status: 'SUCCEEDED', stats: { by: 'b' } })
  })
})
