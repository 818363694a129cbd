import type { Kysely, Transaction } from 'kysely'
import { fromKysely, type Db as IDatabase, PgBoss } from 'pg-boss'
import type { Database } from '../db/client.js'
import type { DB } from '../db/schema.js'
import type { Logger } from '../log.js'
import { listenConnection } from './listen-connection.js'
import type { JobQueue } from './queue.js'
import { reapExpiredRuns } from './runs.js'
import type { JobHandlers } from './types.js'
import { executeRun } from './worker.js'

export const RUN_QUEUE = 'ingestion-run'
export const DEAD_LETTER_QUEUE = 'ingestion-run-dead'
export const CRON_QUEUE = 'ingestion-cron'

export interface LocalQueueOptions {
  database: Database
  /** Postgres only: a LISTEN session of its own lets NOTIFY wake workers the moment a run is enqueued. */
  connectionString?: string
  log: Logger
  maxAttempts: number
  leaseSeconds: number
  worker: { handlers: JobHandlers; concurrency: number } | null
  cron: { expression: string; onTick: () => Promise<void> } | null
}

/**
 * The local transport: pg-boss on the service's own database. pg-boss brings delivery, retries with
 * exponential backoff, a dead-letter queue and cron; the run's own claim (platform/jobs/runs.ts)
 * makes a repeated delivery harmless.
 */
export async function startLocalQueue(opts: LocalQueueOptions): Promise<JobQueue & { boss: PgBoss }> {
  const { database, log } = opts
  const connectionString = database.kind === 'postgres' ? opts.connectionString : undefined
  const useNotify = connectionString !== undefined
  // Every pg-boss statement goes through the service's own pool (on PGlite, the only session there
  // is); only the LISTEN session is separate, and it is ours, so a terminated connection cannot
  // surface as an unhandled error.
  const db: IDatabase = {
    ...poolAdapter(database),
    ...(connectionString
      ? {
          listen: (channel: string, onNotification: (payload: string) => void, onReconnect: () => void) =>
            listenConnection(connectionString, channel, onNotification, onReconnect, log),
        }
      : {}),
  }
  const boss = new PgBoss({
    db,
    backend: database.kind === 'postgres' ? 'postgres' : 'pglite',
    useListenNotify: useNotify,
  })
  boss.on('error', (err) => log.error({ err }, 'job queue error'))
  await boss.start()
  await boss.createQueue(DEAD_LETTER_QUEUE)
  await boss.createQueue(RUN_QUEUE, {
    retryLimit: opts.maxAttempts + 1,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 300,
    // A worker that dies mid-run is caught by the run lease (reaper below), well before this.
    expireInSeconds: 6 * 3600,
    deadLetter: DEAD_LETTER_QUEUE,
    // PGlite through our pool has no LISTEN session: a notify queue there would poll at the slow
    // notify interval. Postgres gets NOTIFY, so workers wake the moment a run is enqueued.
    notify: useNotify,
  })

  const timers: NodeJS.Timeout[] = []
  const shutdown = new AbortController()

  if (opts.worker) {
    const { handlers, concurrency } = opts.worker
    await boss.work<{ runId: string }>(
      RUN_QUEUE,
      { pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 5, localConcurrency: concurrency },
      async ([job]) => {
        if (!job) return
        const result = await executeRun(job.data.runId, {
          db: database.db,
          log,
          handlers,
          leaseSeconds: opts.leaseSeconds,
          shutdown: shutdown.signal,
        })
        // Throwing hands the delivery back to pg-boss, which retries it with backoff.
        if (result.outcome === 'retry') throw new Error(`${result.code}: ${result.message}`)
      },
    )
    const reap = setInterval(
      () => {
        reapExpiredRuns(database.db, opts.leaseSeconds)
          .then(async (ids) => {
            for (const id of ids) {
              log.warn({ run_id: id }, 'run lease expired: handed back to the queue')
              await boss.send(RUN_QUEUE, { runId: id })
            }
          })
          .catch((err) => log.warn({ err }, 'reaper failed'))
      },
      Math.max(1000, (opts.leaseSeconds * 1000) / 2),
    )
    reap.unref()
    timers.push(reap)
  }

  if (opts.cron) {
    const { onTick, expression } = opts.cron
    await boss.createQueue(CRON_QUEUE)
    await boss.schedule(CRON_QUEUE, expression, null, { tz: 'UTC' })
    await boss.work(CRON_QUEUE, async () => onTick())
  }

  return {
    transport: 'local',
    boss,
    async dispatch(runId: string, trx: Transaction<DB> | Kysely<DB>) {
      // pg-boss runs its INSERT inside our transaction: the job and the run commit together, or neither.
      await boss.send(RUN_QUEUE, { runId }, { db: fromKysely(trx) })
    },
    async afterCommit() {},
    async redeliver(runId: string, delaySeconds = 0) {
      await boss.send(RUN_QUEUE, { runId }, delaySeconds > 0 ? { startAfter: delaySeconds } : {})
    },
    async stop() {
      for (const t of timers) clearInterval(t)
      shutdown.abort()
      await boss.stop({ graceful: true, timeout: 20_000, close: true })
    },
  }
}

type Rows = { rows: unknown[] }

/** pg returns an array of results for a multi-statement query; pg-boss expects one result. */
function poolAdapter(database: Database): IDatabase {
  return {
    async executeSql(text: string, values?: unknown[]) {
      const res = (await database.pool.query(text, values as unknown[])) as unknown as Rows | Rows[]
      // biome-ignore lint/suspicious/noExplicitAny: pg-boss types its rows as any
      return Array.isArray(res) ? { rows: res.flatMap((r) => r.rows) as any[] } : (res as { rows: any[] })
    },
  }
}
