import { access, mkdir, rm, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Pool } from 'pg'
import type { Config } from '../../../config.js'
import type { Database } from '../../../platform/db/client.js'
import {
  type JobContext,
  type JobHandler,
  type JobOutcome,
  PermanentJobError,
  runCity,
} from '../../../platform/jobs/types.js'
import type { Logger } from '../../../platform/log.js'
import { OverpassClient } from '../sources/overpass-client.js'
import { ingestUserAgent } from '../sources/upstream-error.js'
import { type Checkpoint, parseCheckpoint } from './checkpoint.js'
import { areaOf, boundaryFromFile, fetchBoundary, loadCity } from './city-area.js'
import { type FetchDeps, fetchSource, localFile } from './fetch-source.js'
import { itemsPhase } from './items-phase.js'
import { TARGETS, type Target } from './targets.js'

export interface IngestionDeps {
  config: Config
  log: Logger
  /** Goes into the User-Agent that public OSM services ask for. */
  version: string
  /** How operators can be reached, for the User-Agent (default: the public base URL, if any). */
  contact?: string
  fetch?: typeof fetch
  /** On Postgres, new records are staged with COPY through this pool (see ADR 008). */
  database?: Pick<Database, 'kind' | 'pool'>
  /**
   * Called once an osm run from a local file or an extract has succeeded, with the file it read and
   * before a download is removed: the basemap keeps the city's extract this way (ADR 020).
   */
  keepExtract?: (ctx: JobContext, path: string) => Promise<void>
}

/** The `osm` (POIs → poi_ingestion_staging) and `helpers` (→ helper_place) job handlers. */
export function createIngestionHandlers(deps: IngestionDeps): { osm: JobHandler; helpers: JobHandler } {
  return { osm: pipelineHandler('poi', deps), helpers: pipelineHandler('helpers', deps) }
}

function pipelineHandler(target: Target, deps: IngestionDeps): JobHandler {
  const ing = deps.config.ingestion
  const contact = deps.contact ?? deps.config.jobs.qstash?.publicBaseUrl ?? 'operator contact not configured'
  const userAgent = ingestUserAgent(deps.version, contact)
  const fetchDeps: FetchDeps = {
    overpass: () =>
      new OverpassClient({
        urls: ing.overpassUrls,
        timeoutSeconds: ing.overpassTimeoutSeconds,
        maxBytes: ing.overpassMaxBytes,
        maxTries: ing.overpassMaxTries,
        idleTimeoutMs: ing.upstreamIdleTimeoutSeconds * 1000,
        userAgent,
        log: deps.log,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      }),
    overpassTimeoutSeconds: ing.overpassTimeoutSeconds,
    overpassMaxBytes: ing.overpassMaxBytes,
    downloadMaxBytes: ing.downloadMaxBytes,
    idleTimeoutMs: ing.upstreamIdleTimeoutSeconds * 1000,
    userAgent,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  }
  return async (ctx) => {
    const workDir = resolve(ing.workDir, ctx.run.id)
    try {
      const pool = deps.database?.kind === 'postgres' ? deps.database.pool : undefined
      const keep = target === 'poi' ? deps.keepExtract : undefined
      const outcome = await runPipeline(ctx, target, workDir, fetchDeps, {
        batchSize: ing.batchSize,
        pool,
        keepExtract: keep,
      })
      if (outcome.status === 'succeeded') await rm(workDir, { recursive: true, force: true })
      return outcome
    } catch (err) {
      // Another attempt of a permanently failed run never comes: its downloads are garbage now.
      if (err instanceof PermanentJobError) await rm(workDir, { recursive: true, force: true })
      throw err
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

async function runPipeline(
  ctx: JobContext,
  target: Target,
  workDir: string,
  fetchDeps: FetchDeps,
  write: {
    batchSize: number
    pool: Pool | undefined
    keepExtract: IngestionDeps['keepExtract'] | undefined
  },
): Promise<JobOutcome> {
  const spec = TARGETS[target]
  const { run } = ctx
  let cp: Checkpoint = parseCheckpoint(run.checkpoint)
  if (cp.phase === 'done' && cp.stats) return { status: 'succeeded', stats: cp.stats }
  const save = async (next: Checkpoint) => {
    cp = next
    await ctx.saveCheckpoint(next)
  }

  const city = await loadCity(ctx.db, runCity(run).cityId)
  const relationId = Number(run.boundaryRef)
  // A cached polygon belongs to the city's own relation; a run for another relation must not use it.
  const cacheable = relationId === city.relationId
  if (!cacheable) {
    city.relationId = relationId
    city.boundary = null
  }
  await mkdir(workDir, { recursive: true })

  if (cp.phase === 'boundary') {
    await ctx.progress({ phase: 'boundary' })
    if (!city.boundary && run.source.kind === 'overpass')
      await fetchBoundary(ctx.db, city, fetchDeps.overpass(), workDir, ctx.signal, cacheable)
    await save({ phase: 'fetch' })
  }

  if (cp.phase === 'items' && cp.data?.path && !(await exists(cp.data.path))) {
    // Another machine, or a cleaned work dir: the download is gone, fetch it again.
    ctx.log.info({ runId: run.id }, 'fetched data missing, fetching again')
    cp = { phase: 'fetch' }
  }
  if (cp.phase === 'fetch') {
    await ctx.progress({ phase: 'fetch' })
    await save({
      phase: 'items',
      data: await fetchSource(ctx, target, workDir, fetchDeps),
      items: { through: 0 },
    })
  }

  if (cp.phase === 'items') {
    const data = cp.data!
    const path = data.path ?? (await localFile(ctx))
    const downloaded = data.path !== null
    if (!city.boundary && data.source.kind !== 'overpass') {
      await ctx.progress({ phase: 'boundary', message: 'looking for the boundary in the file' })
      const source = `${data.source.kind} ${data.source.name ?? data.source.url ?? ''}`.trim()
      await boundaryFromFile(ctx.db, city, path, { source, downloaded, cacheable })
    }
    if (data.source.kind === 'file') data.source.bytes = (await stat(path)).size
    const ready = { ...cp, data, items: cp.items ?? { through: 0 } }
    const outcome = await itemsPhase(ctx, spec, ready, {
      path,
      downloaded,
      area: areaOf(city),
      batchSize: write.batchSize,
      pool: write.pool,
    })
    if (outcome.status === 'yielded') return outcome
    if (write.keepExtract) await write.keepExtract(ctx, path)
    if (downloaded) await rm(path, { force: true })
    return { status: 'succeeded', stats: outcome.stats }
  }
  throw new Error(`unexpected checkpoint phase: ${cp.phase}`)
}
