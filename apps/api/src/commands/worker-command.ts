import { prepareDatabase, VERSION } from '../bootstrap.js'
import { loadConfig } from '../config.js'
import { startJobRuntime } from '../jobs-runtime.js'
import { systemClock } from '../platform/clock.js'
import { createCliLogger } from '../platform/log.js'

/**
 * A worker process without HTTP: works runs from the local queue (pg-boss on DATABASE_URL) and
 * keeps the daily schedule. Several may run at once; the run claim keeps each run to one of them.
 */
export async function workerCommand(): Promise<number> {
  const config = loadConfig()
  const log = createCliLogger(config.logLevel)
  if (config.jobs.transport !== 'local') {
    process.stderr.write(
      'worker: JOBS_TRANSPORT=qstash delivers runs by HTTP callback; no worker process is needed\n',
    )
    return 2
  }
  const database = await prepareDatabase(config, log)
  // A successful osm run chains the publish run of its city, as in the API process.
  const { jobs } = await startJobRuntime({
    config,
    database,
    log,
    clock: systemClock,
    version: VERSION,
    worker: true,
    cron: true,
  })
  log.info({ database: database.kind }, 'worker started')
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'worker stopping: runs in flight are handed back to the queue')
      resolve()
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  await jobs.stop()
  await database.close()
  log.info('worker stopped')
  return 0
}
