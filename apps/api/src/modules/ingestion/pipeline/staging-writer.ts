import type { Kysely, Transaction } from 'kysely'
import type pg from 'pg'
import type { DB } from '../../../platform/db/schema.js'
import { PermanentJobError } from '../../../platform/jobs/types.js'
import type { Checkpoint } from './checkpoint.js'
import {
  checkpointUpdate,
  closeRun,
  copyNewRecords,
  itemKey,
  keyParts,
  loadKnown,
  type StagedRecord,
  upsertRecords,
} from './staging-sql.js'
import type { TargetSpec } from './targets.js'

const SEEN = Symbol('seen')

/** How often progress (which also renews the lease and notices a cancel) is reported between batches. */
const PROGRESS_EVERY_MS = 1_000

export interface StagingRun {
  db: Kysely<DB>
  /**
   * Postgres only: records staging does not hold yet are written with COPY on a client of this pool.
   * Without it (PGlite, whose wire adapter cannot take COPY FROM STDIN) every write is an INSERT.
   */
  pool?: pg.Pool
  cityId: number
  runId: string
  /** New or changed records written per transaction. */
  batchSize: number
  /** The first `resumeAt` kept records were settled by an earlier delivery: they are not written again. */
  resumeAt: number
  /** The checkpoint that records `through` settled records; written in the batch's own transaction. */
  checkpointAt(through: number): Checkpoint
  /** Reports how many kept records are done; throws once the run is cancelled. */
  progress(done: number): Promise<void>
  /** True once this delivery has used its time slice. */
  shouldYield(): boolean
}

export interface StagingResult {
  kept: number
  new: number
  changed: number
  unchanged: number
  missing: number
}

export type StagingOutcome = { status: 'yielded' } | ({ status: 'done' } & StagingResult)

/**
 * Stages a run's records in one pass. Change detection is against the city's staged keys and hashes,
 * read once: unchanged records are only remembered, new and changed ones are written in batches of
 * `batchSize`, each in one transaction with the checkpoint that records how far the run got. A
 * delivery that stops (a crash, a slice deadline) is continued by reading the data again and writing
 * only what comes after the checkpoint. When the data is exhausted, one transaction marks what the
 * run did not see missing and `finish` records the outcome with it; what it saw unchanged is not
 * written at all (its state is derived, ADR 009).
 */
export async function stageRecords(
  run: StagingRun,
  spec: TargetSpec,
  records: AsyncIterable<StagedRecord>,
  finish: (trx: Transaction<DB>, result: StagingResult) => Promise<void>,
): Promise<StagingOutcome> {
  // The city's staged keys → content hash (null: marked missing); SEEN once this delivery read the key
  // (a source that repeats a key is staged once: the first one wins).
  const known: Map<number, string | null | typeof SEEN> = await loadKnown(run.db, spec, run)
  let present = 0
  for (const hash of known.values()) if (hash !== null) present++
  // Records staging does not hold (COPY on Postgres) and records whose content changed (upsert).
  let fresh: StagedRecord[] = []
  let changed: string[] = []
  let kept = 0
  let reportedAt = Date.now()

  const flush = async () => {
    if (fresh.length + changed.length === 0) return
    const batch = { fresh, changed }
    fresh = []
    changed = []
    const checkpoint = run.checkpointAt(kept)
    const copied = run.pool && batch.fresh.length > 0 && (await copyBatch(run, spec, batch, checkpoint))
    if (!copied) {
      const records = [...batch.fresh.map((r) => JSON.stringify(r)), ...batch.changed]
      await run.db.transaction().execute(async (trx) => {
        await upsertRecords(spec, run, records).execute(trx)
        await checkpointUpdate(run.runId, checkpoint).execute(trx)
      })
    }
    reportedAt = Date.now()
    await run.progress(kept)
  }

  for await (const record of records) {
    const key = itemKey(record.osm_type, record.osm_id)
    const before = known.get(key)
    if (before === SEEN) continue
    known.set(key, SEEN)
    const unchanged = before === record.content_hash
    if (kept++ >= run.resumeAt && !unchanged) {
      if (before === undefined) fresh.push(record)
      else changed.push(JSON.stringify(record))
      if (fresh.length + changed.length >= run.batchSize) {
        await flush()
        if (run.shouldYield()) return { status: 'yielded' }
        continue
      }
    }
    if (kept % 256 === 0 && Date.now() - reportedAt >= PROGRESS_EVERY_MS) {
      reportedAt = Date.now()
      await run.progress(kept)
    }
  }
  await flush()

  const missing = { types: [] as string[], ids: [] as number[] }
  for (const [key, hash] of known) {
    if (hash === null || hash === SEEN) continue
    const { type, id } = keyParts(key)
    missing.types.push(type)
    missing.ids.push(id)
  }
  if (kept === 0 && present > 0) {
    // An empty answer for a city that has data is far likelier a broken source (wrong area, a
    // filtered extract) than a city that lost every place: never let it mark the whole city missing.
    throw new PermanentJobError(
      'EMPTY_RESULT',
      `the source held no objects for this city while ${present} are staged; nothing was marked missing`,
    )
  }
  return run.db.transaction().execute(async (trx) => {
    const closed = await closeRun(trx, spec, {
      cityId: run.cityId,
      runId: run.runId,
      missing,
    })
    const result: StagingResult = {
      kept,
      new: closed.new,
      changed: closed.changed,
      unchanged: kept - closed.new - closed.changed,
      missing: closed.missing,
    }
    await finish(trx, result)
    return { status: 'done', ...result }
  })
}

/**
 * One batch through COPY, with its changed records and its checkpoint, in one transaction on a client
 * of its own. False when another run staged one of the new keys meanwhile (nothing was written): the
 * caller writes the batch with ON CONFLICT instead.
 */
async function copyBatch(
  run: StagingRun,
  spec: TargetSpec,
  batch: { fresh: StagedRecord[]; changed: string[] },
  checkpoint: Checkpoint,
): Promise<boolean> {
  const client = await run.pool!.connect()
  let broken: Error | undefined
  try {
    const exec = async (query: {
      compile(db: Kysely<DB>): { sql: string; parameters: readonly unknown[] }
    }) => {
      const compiled = query.compile(run.db)
      await client.query(compiled.sql, [...compiled.parameters])
    }
    await client.query('BEGIN')
    try {
      await copyNewRecords(client, spec, run, batch.fresh)
      if (batch.changed.length > 0) await exec(upsertRecords(spec, run, batch.changed))
      await exec(checkpointUpdate(run.runId, checkpoint))
      await client.query('COMMIT')
      return true
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr
      })
      if ((err as { code?: string }).code === '23505' && !broken) return false
      broken = err as Error
      throw err
    }
  } finally {
    // A client whose transaction could not be closed cleanly is not given back to the pool.
    client.release(broken)
  }
}
