import type { Config } from '../../config.js'
import type { RunTrigger } from '../../platform/db/schema.js'
import { type JobHandler, PermanentJobError, type RunSource, runCity } from '../../platform/jobs/types.js'
import { enqueueRun, type JobDeps, retryRun } from '../jobs/index.js'
import type { RunRow } from '../jobs/run-view.js'
import { contentCities, type ImportReport, importContent } from './content-import.js'
import { localMediaStore } from './media-store.js'

export const CONTENT_IMPORT_JOB_TYPE = 'content_import'

/**
 * Every content import run records this same source (the files under CONTENT_DIR), so the admin
 * route, the start of the service and the chain after a publish share one key per city and date.
 */
const CONTENT_SOURCE = { kind: 'content_files' } as unknown as RunSource

export interface ContentImportEnqueued {
  run: RunRow
  deduplicated: boolean
  /** The run for the key had failed or been cancelled and was queued again. */
  retried: boolean
}

/**
 * Enqueues the `content_import` run of a city, idempotent per `content_import|{city}|{boundary_ref}|{date}`.
 * With `retryFailed`, a run of the key that ended FAILED or CANCELLED (its POIs were not published
 * yet) becomes a new attempt: what changed since (a publish) may let it through now.
 */
export async function enqueueContentImport(
  deps: JobDeps,
  input: { city: string; date?: string; trigger: RunTrigger; retryFailed?: boolean },
): Promise<ContentImportEnqueued> {
  const { run, deduplicated } = await enqueueRun(deps, {
    type: CONTENT_IMPORT_JOB_TYPE,
    city: input.city,
    ...(input.date ? { date: input.date } : {}),
    source: CONTENT_SOURCE,
    trigger: input.trigger,
  })
  if (input.retryFailed && deduplicated && (run.status === 'FAILED' || run.status === 'CANCELLED'))
    return { run: await retryRun(deps, run.id), deduplicated, retried: true }
  return { run, deduplicated, retried: false }
}

/**
 * On start: one `content_import` run per city that has a directory under CONTENT_DIR (and exists in
 * the database), retrying today's run when it had failed. A directory that names no city is logged
 * and skipped; the start goes on.
 */
export async function enqueueContentImportsOnStart(deps: JobDeps): Promise<ContentImportEnqueued[]> {
  const results: ContentImportEnqueued[] = []
  for (const city of await contentCities(deps.config.content.contentDir)) {
    try {
      results.push(await enqueueContentImport(deps, { city, trigger: 'start', retryFailed: true }))
    } catch (err) {
      deps.log.warn({ city, err: (err as Error).message }, 'content import not enqueued')
    }
  }
  if (results.length)
    deps.log.info(
      { runs: results.map((r) => ({ city: r.run.city_slug, id: r.run.id, status: r.run.status })) },
      'content import enqueued on start',
    )
  return results
}

function statsOf(report: ImportReport): Record<string, unknown> {
  return {
    created: report.created,
    changed: report.changed,
    unchanged: report.unchanged,
    failed: report.failed,
    entries: report.entries.map((e) => ({
      kind: e.kind,
      slug: e.slug,
      file: e.file,
      outcome: e.outcome,
      ...(e.errors ? { errors: e.errors } : {}),
    })),
  }
}

/**
 * The `content_import` job: imports the run's city from CONTENT_DIR (the same import as the CLI, so
 * the same files again change nothing). Its stats list every entry: created, changed, unchanged,
 * failed. A run with any failed entry ends FAILED, keeping those stats, because the city's guide is
 * not what the files say: what did import stays imported, and the message names what is missing
 * (`CITY_NOT_PUBLISHED` when the city has no published POI at all, `CONTENT_IMPORT_FAILED` otherwise).
 */
export function createContentImportHandler(config: Pick<Config, 'content'>): JobHandler {
  return async (ctx) => {
    const { cityId, citySlug } = runCity(ctx.run)
    const dir = config.content.contentDir
    if (!(await contentCities(dir)).includes(citySlug))
      throw new PermanentJobError('CONTENT_NOT_FOUND', `CONTENT_DIR has no directory for ${citySlug}`)
    await ctx.progress({ phase: 'import' })
    const report = await importContent(
      ctx.db,
      localMediaStore(config.content.mediaDir),
      config.content,
      dir,
      { city: citySlug },
    )
    const stats = statsOf(report)
    if (report.failed === 0) return { status: 'succeeded', stats }
    const failures = report.entries
      .filter((e) => e.outcome === 'failed')
      .map((e) => `${e.kind} ${e.slug} (${e.file}): ${(e.errors ?? []).join('; ')}`)
      .join(' | ')
    const summary = `${report.failed} of ${report.entries.length} entries not imported: ${failures}`
    const published = await ctx.db
      .selectFrom('poi')
      .select('id')
      .where('city_id', '=', cityId)
      .where('published', '=', true)
      .limit(1)
      .executeTakeFirst()
    if (!published)
      throw new PermanentJobError(
        'CITY_NOT_PUBLISHED',
        `${citySlug} has no published POIs yet: ingest the city (its osm run publishes it and imports ` +
          `the content again). ${summary}`,
        { stats },
      )
    throw new PermanentJobError('CONTENT_IMPORT_FAILED', summary, { stats })
  }
}
