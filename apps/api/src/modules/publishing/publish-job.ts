import { type JobContext, type JobHandler, type JobOutcome, runCity } from '../../platform/jobs/types.js'
import { allPassed, cityArea, evaluateGates, failureSummary, GATE_NAMES, type GateName } from './gates.js'
import {
  countStaged,
  loadCityForPublish,
  recordGateResults,
  saveRunCheckpoint,
  stagedBatch,
  unpublish,
  upsertPublished,
} from './publishing.queries.js'

export interface PublishStats {
  evaluated: number
  /** Rows that passed every gate / failed at least one. */
  passed: number
  failed: number
  /** Per gate: how many rows passed and failed it. */
  gates: Record<GateName, { passed: number; failed: number }>
  /** Written to `poi` as published: new, re-published or changed. */
  published: number
  /** Already published and identical: nothing written. */
  unchanged: number
  /** Were published, now fail a gate: kept, marked unpublished with the reason. */
  unpublished: number
  /** Fail a gate and were not published: stay out. */
  withheld: number
  area: 'polygon' | 'bbox'
}

interface PublishCheckpoint {
  after: number
  stats: PublishStats
  done?: boolean
}

function emptyStats(area: 'polygon' | 'bbox'): PublishStats {
  const gates = Object.fromEntries(
    GATE_NAMES.map((g) => [g, { passed: 0, failed: 0 }]),
  ) as PublishStats['gates']
  return {
    evaluated: 0,
    passed: 0,
    failed: 0,
    gates,
    published: 0,
    unchanged: 0,
    unpublished: 0,
    withheld: 0,
    area,
  }
}

function parseCheckpoint(raw: unknown): PublishCheckpoint | null {
  const value = typeof raw === 'string' ? JSON.parse(raw) : raw
  if (!value || typeof value !== 'object') return null
  const cp = value as Partial<PublishCheckpoint>
  return typeof cp.after === 'number' && cp.stats ? (cp as PublishCheckpoint) : null
}

/**
 * The `publish` job: runs every staged POI of the city through the gates in id-ordered batches,
 * records each row's results, publishes the rows that pass and takes off publication the published
 * rows that no longer do. Each batch commits together with its checkpoint, so a delivery that stops
 * anywhere resumes after the last committed batch and the counts are never doubled.
 */
export function createPublishHandler(opts: { batchSize?: number } = {}): JobHandler {
  const batchSize = opts.batchSize ?? 500
  return async (ctx: JobContext): Promise<JobOutcome> => {
    const { run, db } = ctx
    const { cityId } = runCity(run)
    const city = await loadCityForPublish(db, cityId)
    const area = cityArea(city)
    const saved = parseCheckpoint(run.checkpoint)
    if (saved?.done) return { status: 'succeeded', stats: { ...saved.stats } }
    let cp: PublishCheckpoint = saved ?? { after: 0, stats: emptyStats(area.boundary ? 'polygon' : 'bbox') }
    const total = await countStaged(db, cityId)

    for (;;) {
      await ctx.progress({ phase: 'publish', done: cp.stats.evaluated, total })
      const batch = await stagedBatch(db, cityId, cp.after, batchSize)
      if (batch.length === 0) break
      const stats: PublishStats = structuredClone(cp.stats)
      const evaluated = batch.map((row) => {
        const results = evaluateGates(row, area)
        return { row, results, passed: allPassed(results) }
      })
      const toPublish: number[] = []
      const toUnpublish: Array<{ stagingId: number; reason: string }> = []
      for (const { row, results, passed } of evaluated) {
        stats.evaluated++
        for (const g of GATE_NAMES) stats.gates[g][results[g].passed ? 'passed' : 'failed']++
        if (passed) {
          stats.passed++
          if (row.poi_published === true && row.poi_hash === row.content_hash) stats.unchanged++
          else toPublish.push(row.id)
        } else {
          stats.failed++
          if (row.poi_published === true)
            toUnpublish.push({ stagingId: row.id, reason: failureSummary(results) })
          else stats.withheld++
        }
      }
      const next: PublishCheckpoint = { after: batch[batch.length - 1]!.id, stats }
      await db.transaction().execute(async (trx) => {
        await recordGateResults(
          trx,
          evaluated.map((e) => ({ id: e.row.id, results: e.results, passed: e.passed })),
        )
        await upsertPublished(trx, toPublish)
        stats.published += toPublish.length
        stats.unpublished += await unpublish(trx, toUnpublish)
        await saveRunCheckpoint(trx, run.id, next)
      })
      cp = next
      if (ctx.shouldYield()) return { status: 'yielded' }
    }

    await saveRunCheckpoint(db, run.id, { ...cp, done: true })
    ctx.log.info({ city: city.slug, ...cp.stats }, 'publish finished')
    return { status: 'succeeded', stats: { ...cp.stats } }
  }
}
