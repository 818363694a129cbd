import { createApp } from './app.js'
import { buildDeps, prepareDatabase } from './bootstrap.js'
import { type Config, loadConfig } from './config.js'
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
    return createApp(buildDeps(config, database, log))
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
