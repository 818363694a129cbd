import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createApp } from '../../apps/api/src/app.js'
import { buildDeps, prepareDatabase } from '../../apps/api/src/bootstrap.js'
import { configFrom } from '../../apps/api/src/config.js'
import { createLogger } from '../../apps/api/src/platform/log.js'

/**
 * One process, two servers: the service's app (health hits the database) and a bare Hono route, so a
 * benchmark compares them on the same runtime, event loop and machine state.
 */
const databaseUrl = process.argv[2]
const config = configFrom({
  LOG_LEVEL: 'silent',
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { PGLITE_DIR: 'memory://' }),
})
const log = createLogger('silent')
const database = await prepareDatabase(config, log)
const app = createApp(buildDeps(config, database, log))
const bare = new Hono().get('/bare', (c) => c.json({ status: 'ok' }))

const listen = (fetch: (req: Request) => Response | Promise<Response>) =>
  new Promise<number>((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
    void server
  })
const appPort = await listen(app.fetch)
const barePort = await listen(bare.fetch)
process.stdout.write(`${JSON.stringify({ appPort, barePort })}\n`)
