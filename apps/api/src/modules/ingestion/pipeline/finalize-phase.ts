import { type JobContext, PermanentJobError } from '../../../platform/jobs/types.js'
import type { Checkpoint } from './checkpoint.js'
import { closeRun, deleteItems, writeCheckpoint } from './staging-sql.js'
import type { TargetSpec } from './targets.js'

/** The figures a finished run reports (`ingestion_run.stats`). */
export interface RunStats extends Record<string, unknown> {
  target: 'poi' | 'helpers'
  read: { nodes: number; ways: number; relations: number }
  kept: number
  new: number
  changed: number
  unchanged: number
  missing: number
  area_filter: 'polygon' | 'bbox'
  source: Record<string, unknown>
}

/**
 * One transaction: mark what this run did not see as missing, settle what it saw unchanged, drop the
 * run's item buffer and record the stats in the checkpoint. If the transaction fails nothing of it
 * stays; if it committed, a repeated delivery finds phase `done` and returns the same stats.
 */
export async function finalizePhase(
  ctx: JobContext,
  spec: TargetSpec,
  cp: Checkpoint & Required<Pick<Checkpoint, 'items' | 'upsert' | 'data'>>,
): Promise<RunStats> {
  const { db, run } = ctx
  if (cp.items.kept === 0) {
    // An empty answer for a city that has data is far likelier a broken source (wrong area, a
    // filtered extract) than a city that lost every place: never let it mark the whole city missing.
    const present = await db
      .selectFrom(spec.table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('city_id', '=', run.cityId)
      .where('change_state', '<>', 'missing')
      .executeTakeFirstOrThrow()
    if (present.n > 0) {
      throw new PermanentJobError(
        'EMPTY_RESULT',
        `the source held no objects for this city while ${present.n} are staged; nothing was marked missing`,
      )
    }
  }
  return db.transaction().execute(async (trx) => {
    const { missing } = await closeRun(trx, spec, { cityId: run.cityId, runId: run.id })
    const stats: RunStats = {
      target: spec.target,
      read: cp.items.read,
      kept: cp.items.kept,
      new: cp.upsert.new,
      changed: cp.upsert.changed,
      unchanged: cp.items.kept - cp.upsert.new - cp.upsert.changed,
      missing,
      area_filter: cp.items.area_filter,
      source: { ...cp.data.source },
    }
    await deleteItems(trx, run.id)
    await writeCheckpoint(trx, run.id, { ...cp, phase: 'done', stats })
    return stats
  })
}
