import type { Pool } from 'pg'
import { type JobContext, runCity } from '../../../platform/jobs/types.js'
import { isRelevant, RELEVANT_KEYS } from '../categories.js'
import { readOsmFile } from '../osm/read-osm-file.js'
import type { OsmFeature, OsmReadResult } from '../osm/types.js'
import type { AreaFilter, Checkpoint, ReadCounts } from './checkpoint.js'
import type { AreaTest } from './city-area.js'
import { fromRead } from './job-errors.js'
import { itemKey, type StagedRecord, writeCheckpoint } from './staging-sql.js'
import { type StagingOutcome, stageRecords } from './staging-writer.js'
import type { TargetSpec } from './targets.js'

/** The figures a finished run reports (`ingestion_run.stats`). */
export interface RunStats extends Record<string, unknown> {
  target: 'poi' | 'helpers'
  read: ReadCounts
  kept: number
  new: number
  changed: number
  unchanged: number
  missing: number
  area_filter: AreaFilter
  source: Record<string, unknown>
}

type ItemsCheckpoint = Checkpoint & Required<Pick<Checkpoint, 'data' | 'items'>>

/**
 * Reads the fetched data, streaming, keeps the features inside the city's area that normalise to a
 * record, and stages them (`stageRecords`). The data is read through once before anything is written
 * (a source broken at its end stages nothing). A delivery that stopped part-way is continued by
 * reading the data again from the start: the records the checkpoint says are settled are skipped.
 * When the run completes, its stats are saved as the `done` checkpoint in the closing transaction.
 */
export async function itemsPhase(
  ctx: JobContext,
  spec: TargetSpec,
  cp: ItemsCheckpoint,
  args: { path: string; downloaded: boolean; area: AreaTest; batchSize: number; pool: Pool | undefined },
): Promise<{ status: 'yielded' } | { status: 'done'; stats: RunStats }> {
  const { db, run } = ctx
  const open = async (): Promise<OsmReadResult> => {
    try {
      return await readOsmFile(args.path, { keep: isRelevant, keys: RELEVANT_KEYS })
    } catch (err) {
      throw fromRead(err, args.downloaded)
    }
  }
  async function* records(read: OsmReadResult): AsyncGenerator<StagedRecord> {
    const iterator = read[Symbol.asyncIterator]()
    try {
      for (;;) {
        let next: IteratorResult<OsmFeature>
        try {
          next = await iterator.next()
        } catch (err) {
          throw fromRead(err, args.downloaded)
        }
        if (next.done) return
        const feature = next.value
        if (!args.area.contains(feature.lon, feature.lat)) continue
        const record = spec.normalize(feature)
        if (record !== null) yield record
      }
    } finally {
      // A delivery that yields stops reading part-way: close the file.
      await iterator.return?.()
    }
  }

  if (cp.items.total === undefined) {
    // A source can turn out broken at its very end (a cut-off file, an Overpass runtime-error remark
    // after the elements): read it through once before staging anything, so a broken source leaves
    // staging untouched. Reading costs a fraction of writing; the count gives progress its total.
    const keys = new Set<number>()
    for await (const record of records(await open())) keys.add(itemKey(record.osm_type, record.osm_id))
    cp.items = { through: 0, total: keys.size }
    await ctx.saveCheckpoint(cp)
  }
  const total = cp.items.total
  const read = await open()
  let stats: RunStats | undefined
  const outcome: StagingOutcome = await stageRecords(
    {
      db,
      cityId: runCity(run).cityId,
      runId: run.id,
      batchSize: args.batchSize,
      ...(args.pool ? { pool: args.pool } : {}),
      resumeAt: cp.items.through,
      checkpointAt: (through) => ({ ...cp, items: { through, total } }),
      progress: (done) => ctx.progress({ phase: 'items', done, total }),
      shouldYield: () => ctx.shouldYield(),
    },
    spec,
    records(read),
    async (trx, result) => {
      const { nodes, ways, relations } = read.stats()
      stats = {
        target: spec.target,
        read: { nodes, ways, relations },
        ...result,
        area_filter: args.area.filter,
        source: { ...cp.data.source },
      }
      await writeCheckpoint(trx, run.id, { ...cp, phase: 'done', stats })
    },
  )
  if (outcome.status === 'yielded') return outcome
  return { status: 'done', stats: stats! }
}
