import type { JobContext } from '../../../platform/jobs/types.js'
import type { Checkpoint } from './checkpoint.js'
import { upsertBatch, writeCheckpoint } from './staging-sql.js'
import type { TargetSpec } from './targets.js'

/**
 * Writes the buffered items to staging in seq ranges of `batchSize`; each range commits together with
 * the checkpoint that records it, so a crash loses at most the batch in flight and a later delivery
 * continues after the last committed one. Returns false when the slice is used up (checkpoint saved).
 */
export async function upsertPhase(
  ctx: JobContext,
  spec: TargetSpec,
  cp: Checkpoint & Required<Pick<Checkpoint, 'items' | 'upsert'>>,
  batchSize: number,
): Promise<boolean> {
  const { db, run } = ctx
  const total = cp.items.kept
  while (cp.upsert.through < total) {
    const from = cp.upsert.through
    const to = Math.min(total, from + batchSize)
    const next = await db.transaction().execute(async (trx) => {
      const written = await upsertBatch(trx, spec, { cityId: run.cityId, runId: run.id, from, to })
      const saved: Checkpoint = {
        ...cp,
        upsert: {
          through: to,
          new: cp.upsert.new + written.inserted,
          changed: cp.upsert.changed + written.updated,
        },
      }
      await writeCheckpoint(trx, run.id, saved)
      return saved
    })
    cp.upsert = next.upsert!
    await ctx.progress({ phase: 'upsert', done: to, total })
    if (cp.upsert.through < total && ctx.shouldYield()) return false
  }
  return true
}
