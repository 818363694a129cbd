import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SingleBar } from 'cli-progress'
import type { Kysely } from 'kysely'
import { prepareDatabase, VERSION } from '../bootstrap.js'
import { loadConfig } from '../config.js'
import { buildJobHandlers } from '../jobs-runtime.js'
import { contentCities, enqueueContentImport } from '../modules/catalog/index.js'
import { enqueueRun, findRun, idempotencyKey, runView } from '../modules/jobs/index.js'
import { findRunByKey } from '../modules/jobs/jobs.queries.js'
import { retryRun } from '../modules/jobs/jobs.service.js'
import { enqueueTiles } from '../modules/maps/index.js'
import { enqueuePublish } from '../modules/publishing/index.js'
import { dateInZone, systemClock } from '../platform/clock.js'
import type { DB } from '../platform/db/schema.js'
import { AppError } from '../platform/http/errors.js'
import type { RunSource } from '../platform/jobs/types.js'
import { type ExecuteResult, executeRun } from '../platform/jobs/worker.js'
import { createCliLogger } from '../platform/log.js'

export const INGEST_USAGE =
  '  ingest --type osm|helpers --city <slug> --file <path> [--date YYYY-MM-DD] [--json]\n' +
  '                       record the run like any other and run it here, on a local .osm/.osm.gz/.osm.pbf\n'

/**
 * Runs an ingestion from a local file in this process, the only one that can read it. The run is
 * recorded with the same idempotency key and job record as an enqueued one (visible on
 * GET /v1/jobs/{id}); asking again for a finished key shows that run instead of running it twice.
 */
export async function ingestCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      type: { type: 'string' },
      city: { type: 'string' },
      file: { type: 'string' },
      date: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
  const type = values.type
  if ((type !== 'osm' && type !== 'helpers') || !values.city || !values.file) {
    process.stderr.write(`Usage:\n${INGEST_USAGE}`)
    return 2
  }
  if (values.date && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) {
    process.stderr.write('--date must be YYYY-MM-DD\n')
    return 2
  }
  const filePath = resolve(values.file)
  const config = loadConfig()
  // On a terminal the progress bar is the interface; the JSON log stays for warnings.
  const log = createCliLogger(values.json || process.stderr.isTTY ? 'warn' : config.logLevel)
  const database = await prepareDatabase(config, log)
  try {
    const deps = { database, clock: systemClock, config, log, jobs: null }
    const enqueued = await enqueueRun(deps, {
      type,
      city: values.city,
      ...(values.date ? { date: values.date } : {}),
      source: { kind: 'file', name: basename(filePath) },
      trigger: 'cli',
    }).catch(async (err: unknown) => {
      if (err instanceof AppError && err.code === 'IDEMPOTENCY_CONFLICT') {
        process.stderr.write(await conflictAdvice(database.db, type, values.city!, values.date, values.file!))
        return null
      }
      throw err
    })
    if (!enqueued) return 1
    let { run } = enqueued
    if (run.status === 'FAILED' || run.status === 'CANCELLED') run = await retryRun(deps, run.id)
    const handlers = buildJobHandlers(config, log, VERSION, undefined, database)
    if (run.status === 'QUEUED')
      await runHere(run.id, { database, config, log, handlers, filePath, progress: !values.json })
    const final = runView((await findRun(database.db, run.id))!)
    // An osm run publishes its city, as a queued one chains it: no queue reaches this process, so the
    // publish run (recorded like any other, same key) runs here too.
    let published: ReturnType<typeof runView> | null = null
    let basemap: ReturnType<typeof runView> | null = null
    if (type === 'osm' && final.status === 'SUCCEEDED') {
      const { run: pub } = await enqueuePublish(deps, {
        city: values.city!,
        date: final.run_date,
        trigger: 'chain',
      })
      if (pub.status === 'QUEUED')
        await runHere(pub.id, { database, config, log, handlers, progress: !values.json })
      published = runView((await findRun(database.db, pub.id))!)
      // And the basemap from the same file (kept as the city's extract), as a queued run chains it.
      const { run: tilesRun } = await enqueueTiles(deps, {
        citySlug: final.city!,
        boundaryRef: final.boundary_ref,
        runDate: final.run_date,
        source: final.source as RunSource,
      })
      if (tilesRun.status === 'QUEUED')
        await runHere(tilesRun.id, { database, config, log, handlers, progress: !values.json })
      basemap = runView((await findRun(database.db, tilesRun.id))!)
    }
    // A publish imports the city's content files, as a queued one chains it (a failed import of the
    // day, before the POIs were published, is retried).
    let imported: ReturnType<typeof runView> | null = null
    if (
      published?.status === 'SUCCEEDED' &&
      (await contentCities(config.content.contentDir)).includes(values.city!)
    ) {
      const { run: imp } = await enqueueContentImport(deps, {
        city: values.city!,
        date: final.run_date,
        trigger: 'chain',
        retryFailed: true,
      })
      if (imp.status === 'QUEUED')
        await runHere(imp.id, { database, config, log, handlers, progress: !values.json })
      imported = runView((await findRun(database.db, imp.id))!)
    }
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ ...final, publish: published, tiles: basemap, content_import: imported }, null, 2)}\n`,
      )
    else {
      for (const job of [final, published, basemap, imported].filter((j) => j !== null)) {
        process.stdout.write(`${job.type} job ${job.id}: ${job.status}\n`)
        if (job.stats) process.stdout.write(`${JSON.stringify(job.stats, null, 2)}\n`)
        if (job.error) process.stdout.write(`error ${job.error.code}: ${job.error.message}\n`)
      }
    }
    return final.status === 'SUCCEEDED' && (published === null || published.status === 'SUCCEEDED') ? 0 : 1
  } finally {
    await database.close()
  }
}

interface RunHereDeps {
  database: Awaited<ReturnType<typeof prepareDatabase>>
  config: ReturnType<typeof loadConfig>
  log: ReturnType<typeof createCliLogger>
  handlers: ReturnType<typeof buildJobHandlers>
  filePath?: string
  progress: boolean
}

/** Works one run in this process, retrying transient failures with backoff like a queue would. */
async function runHere(runId: string, d: RunHereDeps): Promise<void> {
  const bar =
    d.progress && process.stderr.isTTY ? new SingleBar({ format: ' {phase} [{bar}] {value}/{total}' }) : null
  const poll = bar ? watchProgress(d.database.db, runId, bar) : null
  let result: ExecuteResult
  let attempt = 0
  do {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** attempt)))
    attempt += 1
    result = await executeRun(runId, {
      db: d.database.db,
      log: d.log,
      handlers: d.handlers,
      leaseSeconds: d.config.jobs.leaseSeconds,
      local: d.filePath ? { filePath: d.filePath } : {},
    })
  } while (result.outcome === 'retry')
  poll?.stop()
}

function watchProgress(db: Parameters<typeof findRun>[0], runId: string, bar: SingleBar) {
  let started = false
  const timer = setInterval(() => {
    findRun(db, runId)
      .then((r) => {
        const p = (r?.progress ?? {}) as { phase?: string; done?: number; total?: number }
        const total = p.total ?? 0
        if (!started) {
          bar.start(total, p.done ?? 0, { phase: p.phase ?? 'start' })
          started = true
        }
        bar.setTotal(total)
        bar.update(p.done ?? 0, { phase: p.phase ?? '' })
      })
      .catch(() => {})
  }, 300)
  return {
    stop() {
      clearInterval(timer)
      if (started) bar.stop()
    },
  }
}

/**
 * A city and day already have a run of this type from another source (an Overpass run, most often
 * a failed one): one key is one run, so this file cannot become that run. Says which run holds the
 * key and what to do instead of a bare conflict.
 */
async function conflictAdvice(
  db: Kysely<DB>,
  type: 'osm' | 'helpers',
  citySlug: string,
  date: string | undefined,
  file: string,
): Promise<string> {
  const city = await db
    .selectFrom('cities')
    .select(['slug', 'osm_relation_id', 'timezone'])
    .where('slug', '=', citySlug)
    .executeTakeFirstOrThrow()
  const day = date ?? dateInZone(systemClock.now(), city.timezone)
  const run = await findRunByKey(db, idempotencyKey(type, city.slug, String(city.osm_relation_id), day))
  const held = run
    ? `run ${run.id} (${run.status}, source ${JSON.stringify(run.source)}, ${run.attempts} attempt(s)${run.error_code ? `, error ${run.error_code}` : ''})`
    : 'another run'
  const next = new Date(`${day}T00:00:00Z`)
  next.setUTCDate(next.getUTCDate() + 1)
  const other = next.toISOString().slice(0, 10)
  return (
    `Cannot ingest ${file}: the ${type} run of ${city.slug} for ${day} already exists as ${held}.\n` +
    'One city, type and day is one run, so this file cannot become that run. Either:\n' +
    `  - record the file under another day: npm run cli -- ingest --type ${type} --city ${city.slug} --file ${file} --date ${other}\n` +
    (run && (run.status === 'FAILED' || run.status === 'CANCELLED')
      ? `  - or retry that run from its own source: POST /v1/admin/jobs/${run.id}/retry (X-Admin-Token)\n`
      : `  - or look at that run: GET /v1/jobs/${run?.id ?? '{job_id}'} (X-Admin-Token)\n`)
  )
}
