import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configFrom } from '../../apps/api/src/config.js'
import { createIngestionHandlers } from '../../apps/api/src/modules/ingestion/index.js'
import { fromPostgres } from '../../apps/api/src/platform/db/client.js'
import { createLogger } from '../../apps/api/src/platform/log.js'
import { createJobContext, insertRunningRun } from '../../apps/api/test/helpers/job-context.js'

/**
 * One whole file → staging ingestion (the `osm` handler, Moscow, file source) in a process of its own,
 * so maxRSS is the pipeline's peak. Prints one JSON line.
 */
if (import.meta.filename === process.argv[1]) {
  const [url, path] = process.argv.slice(2) as [string, string]
  const startupRssMB = process.memoryUsage().rss / 2 ** 20
  const database = fromPostgres(url, 2)
  const work = mkdtempSync(join(tmpdir(), 'gorod-rss-'))
  const handlers = createIngestionHandlers({
    config: configFrom({ WORK_DIR: work }),
    log: createLogger('silent'),
    version: 'bench',
    database,
  })
  const runId = await insertRunningRun(database.db, {
    citySlug: 'moscow',
    source: { kind: 'file', name: 'city' },
  })
  const started = performance.now()
  const outcome = await handlers.osm(await createJobContext(database.db, runId, { filePath: path }))
  const seconds = (performance.now() - started) / 1000
  await database.close()
  rmSync(work, { recursive: true, force: true })
  const stats = outcome.status === 'succeeded' ? outcome.stats : null
  console.log(
    JSON.stringify({
      seconds: Math.round(seconds * 100) / 100,
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      startupRssMB: Math.round(startupRssMB),
      read: stats?.read,
      kept: stats?.kept,
      area_filter: stats?.area_filter,
    }),
  )
}
