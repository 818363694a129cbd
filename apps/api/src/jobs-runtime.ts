import type { Config } from './config.js'
import { createIngestionHandlers } from './modules/ingestion/index.js'
import { enqueueDaily } from './modules/jobs/index.js'
import type { Clock } from './platform/clock.js'
import type { Database } from './platform/db/client.js'
import { startLocalQueue } from './platform/jobs/pgboss-queue.js'
import { createQStashQueue } from './platform/jobs/qstash-queue.js'
import type { JobQueue } from './platform/jobs/queue.js'
import type { JobHandlers } from './platform/jobs/types.js'
import type { Logger } from './platform/log.js'

/** The `{ type → handler }` map: every job type this deployment can run. */
export function buildJobHandlers(config: Config, log: Logger, version: string): JobHandlers {
  return { ...createIngestionHandlers({ config, log, version }) }
}

export interface JobsRuntimeOptions {
  config: Config
  database: Database
  log: Logger
  clock: Clock
  handlers: JobHandlers
  /** Run jobs in this process (local transport). */
  worker: boolean
  /** Register the daily schedule (local transport). */
  cron: boolean
}

/** Starts the configured transport: pg-boss on our own database, or QStash. */
export async function startJobs(opts: JobsRuntimeOptions): Promise<JobQueue> {
  const { config, database, log } = opts
  if (config.jobs.transport === 'qstash') {
    // Config validation guarantees the QStash settings exist for this transport.
    return createQStashQueue(config.jobs.qstash!, { log, maxAttempts: config.jobs.maxAttempts })
  }
  const queue: JobQueue = await startLocalQueue({
    database,
    ...(config.database.kind === 'postgres' ? { connectionString: config.database.url } : {}),
    log,
    maxAttempts: config.jobs.maxAttempts,
    leaseSeconds: config.jobs.leaseSeconds,
    worker: opts.worker ? { handlers: opts.handlers, concurrency: config.jobs.workerConcurrency } : null,
    cron: opts.cron
      ? {
          expression: config.jobs.cron,
          onTick: async () => {
            await enqueueDaily({ database, clock: opts.clock, config, log, jobs: queue })
          },
        }
      : null,
  })
  return queue
}
