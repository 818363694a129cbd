import { createApp } from './app.js'
import { buildDeps, prepareDatabase, VERSION } from './bootstrap.js'
import { type Config, loadConfig } from './config.js'
import { startJobRuntime } from './jobs-runtime.js'
import { loadKeyRing } from './platform/auth/index.js'
import { systemClock } from './platform/clock.js'
import { createLogger } from './platform/log.js'

/**
 * A fetch handler for serverless platforms. The app (config, database pool, migrations) is built on
 * the first request and reused while the instance lives; a failed build is retried on the next call
 * instead of poisoning the instance.
 */
export function createServerlessHandler(configure: () => Config = () => loadConfig()) {
  let ready: Promise<ReturnType<typeof createApp>> | null = null
  const build = async () => {
    const config = configure()
    const log = createLogger(config.logLevel)
    const database = await prepareDatabase(config, log)
    // A function instance only publishes and answers callbacks: no polling worker, no in-process cron.
    const { jobs, jobHandlers } = await startJobRuntime({
      config,
      database,
      log,
      clock: systemClock,
      version: VERSION,
      worker: false,
      cron: false,
    })
    const keyRing = await loadKeyRing(database.db, config.auth)
    return createApp(buildDeps(config, database, log, { jobs, jobHandlers, keyRing }))
  }
  return async (request: Request): Promise<Response> => {
    ready ??= build().catch((err) => {
      ready = null
      throw err
    })
    const app = await ready
    return app.fetch(request)
  }
}
