import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SingleBar } from 'cli-progress'
import { prepareDatabase, VERSION } from '../bootstrap.js'
import { loadConfig } from '../config.js'
import { buildJobHandlers } from '../jobs-runtime.js'
import { enqueueRun, findRun, runView } from '../modules/jobs/index.js'
import { retryRun } from '../modules/jobs/jobs.service.js'
import { enqueuePublish } from '../modules/publishing/index.js'
import { systemClock } from '../platform/clock.js'
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
    let { run } = await enqueueRun(deps, {
      type,
      city: values.city,
      ...(values.date ? { date: values.date } : {}),
      source: { kind: 'file', name: basename(filePath) },
      trigger: 'cli',
    })
    if (run.status === 'FAILED' || run.status === 'CANCELLED') run = await retryRun(deps, run.id)
    const handlers = buildJobHandlers(config, log, VERSION, undefined, database)
    if (run.status === 'QUEUED')
      await runHere(run.id, { database, config, log, handlers, filePath, progress: !values.json })
    const final = runView((await findRun(database.db, run.id))!)
    // An osm run publishes its city, as a queued one chains it: no queue reaches this process, so the
    // publish run (recorded like any other, same key) runs here too.
    let published: ReturnType<typeof runView> | null = null
    if (type === 'osm' && final.status === 'SUCCEEDED') {
      const { run: pub } = await enqueuePublish(deps, {
        city: final.city,
        date: final.run_date,
        trigger: 'chain',
      })
      if (pub.status === 'QUEUED')
        await runHere(pub.id, { database, config, log, handlers, progress: !values.json })
      published = runView((await findRun(database.db, pub.id))!)
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ ...final, publish: published }, null, 2)}\n`)
    else {
      for (const job of published ? [final, published] : [final]) {
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
