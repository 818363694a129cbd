import { join } from 'node:path'
import type { Config } from './config.js'
import { PURGE_JOB_TYPE, purgeAccountHandler } from './modules/accounts/index.js'
import {
  CONTENT_IMPORT_JOB_TYPE,
  contentCities,
  createContentImportHandler,
  enqueueContentImport,
} from './modules/catalog/index.js'
import { createIngestionHandlers } from './modules/ingestion/index.js'
import { enqueueDaily } from './modules/jobs/index.js'
import {
  basemapSource,
  createTilesHandler,
  enqueueTiles,
  extractKeeper,
  thenBuildTiles,
} from './modules/maps/index.js'
import { thenBuildPack } from './modules/packs/index.js'
import { createPublishHandler, enqueuePublish } from './modules/publishing/index.js'
import { createPurchaseHandlers } from './modules/purchases/index.js'
import { localBlobStore } from './platform/blobs/blob-store.js'
import type { Clock } from './platform/clock.js'
import { systemClock } from './platform/clock.js'
import type { Database } from './platform/db/client.js'
import { startLocalQueue } from './platform/jobs/pgboss-queue.js'
import { createQStashQueue } from './platform/jobs/qstash-queue.js'
import type { JobQueue } from './platform/jobs/queue.js'
import { type JobHandler, type JobHandlers, runCity, TransientJobError } from './platform/jobs/types.js'
import type { Logger } from './platform/log.js'

/** What chaining needs: the queue exists only after the handlers are built, hence the getter. */
export interface ChainDeps {
  database: Database
  clock: Clock
  queue: () => JobQueue | null
}

/**
 * The `{ type → handler }` map: every job type this deployment can run. With `chain`, an `osm` run
 * that succeeds enqueues the `publish` run of its city and run date, and when it read a local file
 * or an extract also the `tiles` run (the basemap) of the same key (idempotent: a repeated delivery
 * of the finished run finds the same runs); a `publish` run that succeeds enqueues the
 * `content_import` run of its city and date when the city has content (a failed one is retried: its
 * POIs may be published now).
 */
export function buildJobHandlers(
  config: Config,
  log: Logger,
  version: string,
  chain?: ChainDeps,
  database: Database | undefined = chain?.database,
): JobHandlers {
  const blobs = localBlobStore(config.blobDir)
  const ingestion = createIngestionHandlers({
    config,
    log,
    version,
    ...(database ? { database } : {}),
    keepExtract: extractKeeper({ blobs }),
  })
  const publish = thenBuildPack(
    thenBuildTiles(createPublishHandler({ batchSize: config.ingestion.batchSize })),
    config,
  )
  return {
    ...ingestion,
    tiles: thenBuildPack(
      createTilesHandler({ blobs, workDir: join(config.ingestion.workDir, 'basemap') }),
      config,
    ),
    osm: chain ? thenPublish(ingestion.osm, config, log, chain) : ingestion.osm,
    publish: chain ? thenImportContent(publish, config, log, chain) : publish,
    [PURGE_JOB_TYPE]: purgeAccountHandler,
    [CONTENT_IMPORT_JOB_TYPE]: createContentImportHandler(config),
    ...createPurchaseHandlers({
      config,
      clock: chain?.clock ?? systemClock,
      jobs: () => chain?.queue() ?? null,
    }),
  }
}

function thenImportContent(publish: JobHandler, config: Config, log: Logger, chain: ChainDeps): JobHandler {
  return async (ctx) => {
    const outcome = await publish(ctx)
    if (outcome.status !== 'succeeded') return outcome
    const { citySlug } = runCity(ctx.run)
    if (!(await contentCities(config.content.contentDir)).includes(citySlug)) return outcome
    try {
      const { run, retried } = await enqueueContentImport(
        { database: chain.database, clock: chain.clock, config, log, jobs: chain.queue() },
        { city: citySlug, date: ctx.run.runDate, trigger: 'chain', retryFailed: true },
      )
      ctx.log.info({ content_import_run_id: run.id, retried }, 'content import chained')
    } catch (err) {
      // The publish is checkpointed: a retry finds its work done and chains again.
      throw new TransientJobError(
        'CHAIN_ENQUEUE_FAILED',
        `content import run not enqueued: ${(err as Error).message}`,
        { cause: err },
      )
    }
    return outcome
  }
}

function thenPublish(osm: JobHandler, config: Config, log: Logger, chain: ChainDeps): JobHandler {
  return async (ctx) => {
    const outcome = await osm(ctx)
    if (outcome.status !== 'succeeded') return outcome
    try {
      const deps = { database: chain.database, clock: chain.clock, config, log, jobs: chain.queue() }
      const { run } = await enqueuePublish(deps, {
        city: runCity(ctx.run).citySlug,
        date: ctx.run.runDate,
        trigger: 'chain',
      })
      ctx.log.info({ publish_run_id: run.id }, 'publish run chained')
      if (basemapSource(ctx.run)) {
        const { run: tiles } = await enqueueTiles(deps, { ...ctx.run, citySlug: runCity(ctx.run).citySlug })
        ctx.log.info({ tiles_run_id: tiles.id }, 'tiles run chained')
      }
    } catch (err) {
      // The osm work is done and checkpointed: a retry returns its stats at once and chains again.
      throw new TransientJobError(
        'CHAIN_ENQUEUE_FAILED',
        `publish or tiles run not enqueued: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
    return outcome
  }
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

/**
 * The job side of a process, wired the same way everywhere (API, worker, serverless): handlers for
 * every type with the osm → publish chain, and the configured transport. `worker`/`cron` say whether
 * this process also works runs and keeps the schedule (local transport only).
 */
export async function startJobRuntime(opts: {
  config: Config
  database: Database
  log: Logger
  clock: Clock
  version: string
  worker: boolean
  cron: boolean
}): Promise<{ jobs: JobQueue; jobHandlers: JobHandlers }> {
  let queue: JobQueue | null = null
  // The chain needs the queue, which needs the handlers: the getter closes the loop.
  const jobHandlers = buildJobHandlers(opts.config, opts.log, opts.version, {
    database: opts.database,
    clock: opts.clock,
    queue: () => queue,
  })
  queue = await startJobs({ ...opts, handlers: jobHandlers })
  return { jobs: queue, jobHandlers }
}
