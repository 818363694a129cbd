import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { createApp } from './app.js'
import { buildDeps, prepareDatabase, VERSION } from './bootstrap.js'
import { ConfigError, loadConfig } from './config.js'
import { withDevAdminToken } from './dev-admin-token.js'
import { startJobRuntime } from './jobs-runtime.js'
import { enqueueContentImportsOnStart } from './modules/catalog/index.js'
import { loadKeyRing } from './platform/auth/index.js'
import { systemClock } from './platform/clock.js'
import { answerClientErrors } from './platform/http/client-error.js'
import { createLogger } from './platform/log.js'

/** How long a stopping server keeps accepting connections that were already on their way. */
const DRAIN_MS = 1_000

async function main() {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(78)
    }
    throw err
  }
  config = withDevAdminToken(config, (line) => process.stderr.write(line))
  const log = createLogger(config.logLevel)
  const database = await prepareDatabase(config, log).catch((err: Error) => {
    log.fatal({ err: { message: err.message, name: err.name } }, 'cannot start: database')
    process.stderr.write(`Cannot start: ${err.message}\n`)
    process.exit(1)
  })
  const { jobs, jobHandlers } = await startJobRuntime({
    config,
    database,
    log,
    clock: systemClock,
    version: VERSION,
    worker: config.jobs.workerEnabled,
    cron: config.jobs.workerEnabled,
  }).catch((err: Error) => {
    log.fatal({ err }, 'cannot start: job queue')
    process.exit(1)
  })
  // The guide's content files, imported as jobs (one per city with content; today's run again only
  // if it failed): a start never waits for them, and a failure to enqueue is logged, not fatal.
  await enqueueContentImportsOnStart({ database, clock: systemClock, config, log, jobs }).catch(
    (err: Error) => log.warn({ err: { message: err.message } }, 'content import not enqueued on start'),
  )
  // Keys are loaded before the first request: a bad configured key stops the start, not a request.
  const keyRing = await loadKeyRing(database.db, config.auth).catch((err: Error) => {
    log.fatal({ err: { message: err.message } }, 'cannot start: auth signing keys')
    process.exit(78)
  })
  const deps = buildDeps(config, database, log, { jobs, jobHandlers, keyRing })
  const app = createApp(deps)

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    log.info(
      { port: info.port, host: config.host, database: database.kind, version: deps.version },
      'listening',
    )
  })
  answerClientErrors(server as Server, log)
  server.on('error', (err) => {
    log.fatal({ err }, 'server error')
    process.exit(1)
  })

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests')
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting')
      process.exit(1)
    }, 25_000)
    force.unref()
    // Connections a client opened just before the signal may still sit in the kernel's accept queue;
    // closing the listener at once resets them. Keep accepting for a moment, then stop listening.
    setTimeout(() => closeServer(), DRAIN_MS)
  }
  const closeServer = () => {
    server.close(async () => {
      // Runs in flight are handed back to the queue (not failed) so another worker takes them.
      await jobs.stop().catch((err) => log.error({ err }, 'stopping jobs'))
      await database.close().catch((err) => log.error({ err }, 'closing database'))
      log.info('stopped')
      process.exit(0)
    })
    // Idle keep-alive sockets would hold close() open until they time out.
    ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

void main()
