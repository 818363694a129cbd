import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { serve } from '@hono/node-server'
import { createApp } from '../../apps/api/src/app.js'
import { buildDeps, prepareDatabase } from '../../apps/api/src/bootstrap.js'
import { configFrom } from '../../apps/api/src/config.js'
import { buildJobHandlers } from '../../apps/api/src/jobs-runtime.js'
import { grantEntitlement, importContent, localMediaStore } from '../../apps/api/src/modules/catalog/index.js'
import { enqueueRun } from '../../apps/api/src/modules/jobs/index.js'
import { enqueuePublish } from '../../apps/api/src/modules/publishing/index.js'
import { systemClock } from '../../apps/api/src/platform/clock.js'
import { executeRun } from '../../apps/api/src/platform/jobs/worker.js'
import { createLogger } from '../../apps/api/src/platform/log.js'
import { ROOT } from './service.js'

/**
 * The service with a real guide: Sergiev Posad ingested from the shared extract and published through
 * the real jobs, the shipped content imported, an account that owns the paid tour. Prints the port,
 * the account's token and the tours to read, then serves.
 */
const databaseUrl = process.argv[2]
const work = await mkdtemp(join(tmpdir(), 'gorod-bench-catalog-'))
const config = configFrom({
  LOG_LEVEL: 'silent',
  WORK_DIR: join(work, 'work'),
  MEDIA_DIR: join(work, 'media'),
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { PGLITE_DIR: 'memory://' }),
})
const log = createLogger('silent')
const database = await prepareDatabase(config, log)
const deps = { database, clock: systemClock, config, log, jobs: null }
const handlers = buildJobHandlers(config, log, 'bench', undefined, database)
const runHere = async (id: string, filePath?: string) => {
  const r = await executeRun(id, {
    db: database.db,
    log,
    handlers,
    leaseSeconds: 120,
    ...(filePath ? { local: { filePath } } : {}),
  })
  if (r.outcome !== 'succeeded') throw new Error(`run ${id}: ${JSON.stringify(r)}`)
}
const extract = resolve(ROOT, '../shared/data/osm/sergiev-posad-lavra-2020.osm.pbf')
const osm = await enqueueRun(deps, {
  type: 'osm',
  city: 'sergiev-posad',
  source: { kind: 'file', name: 'sergiev-posad-lavra-2020.osm.pbf' },
  trigger: 'cli',
})
await runHere(osm.run.id, extract)
await runHere((await enqueuePublish(deps, { city: 'sergiev-posad', trigger: 'chain' })).run.id)
const report = await importContent(
  database.db,
  localMediaStore(config.content.mediaDir),
  config.content,
  resolve(ROOT, 'content'),
  { city: 'sergiev-posad' },
)
if (report.failed) throw new Error(`content import failed: ${JSON.stringify(report.entries)}`)

const app = createApp(buildDeps(config, database, log))
const created = await app.request('/v1/accounts', {
  method: 'POST',
  headers: { 'X-App-Key': 'dev-gorod-app-key' },
})
const { access_token } = (await created.json()) as { access_token: string }
const account = await database.db.selectFrom('account').select(['id', 'tenant_id']).executeTakeFirstOrThrow()
const paid = await database.db
  .selectFrom('catalog_item')
  .select('id')
  .where('paid', '=', true)
  .where('status', '=', 'published')
  .orderBy('id')
  .executeTakeFirstOrThrow()
await grantEntitlement(database.db, account.tenant_id, account.id, Number(paid.id), 'grant')
const catalog = (await (
  await app.request('/v1/cities/sergiev-posad/catalog?platform=android', {
    headers: { 'X-App-Key': 'dev-gorod-app-key', authorization: `Bearer ${access_token}` },
  })
).json()) as { items: Array<{ access: string; tours: Array<{ id: number }> }> }
const owned = catalog.items.find((i) => i.access === 'owned')
if (!owned) throw new Error(`no owned item in ${JSON.stringify(catalog)}`)

const port = await new Promise<number>((ok) => {
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => ok(info.port))
})
process.stdout.write(
  `${JSON.stringify({ appPort: port, token: access_token, tourId: owned.tours[0]!.id })}\n`,
)
