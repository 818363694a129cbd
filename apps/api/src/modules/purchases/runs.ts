import { randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import type { Config } from '../../config.js'
import type { DB } from '../../platform/db/schema.js'
import type { JobQueue } from '../../platform/jobs/queue.js'

export const CLAIM_JOB_TYPE = 'purchase_claim'
export const EVENT_JOB_TYPE = 'store_event'

/**
 * Records a cityless run inside the caller's transaction and hands it to the local queue there (both
 * commit or neither does); the caller runs `jobs.afterCommit` once committed (QStash). `ref` makes the
 * key: one run per store event (its inbox id), a fresh one per claim. Returns the run id, or null
 * when the key already had a run.
 */
export async function recordRun(
  trx: Transaction<DB>,
  deps: { config: Config; jobs?: JobQueue | null | undefined },
  input: { type: typeof CLAIM_JOB_TYPE | typeof EVENT_JOB_TYPE; ref?: string; today: string; source: object },
): Promise<string | null> {
  const run = await trx
    .insertInto('ingestion_run')
    .values({
      type: input.type,
      city_id: null,
      boundary_ref: '',
      run_date: input.today,
      idempotency_key: `${input.type}|-|${input.ref ?? randomUUID()}|${input.today}`,
      source: JSON.stringify(input.source),
      // Started by what a store or an app sent, not by an operator: the same kind as a chained run.
      trigger: 'chain',
      max_attempts: deps.config.jobs.maxAttempts,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst()
  if (run && deps.jobs) await deps.jobs.dispatch(run.id, trx)
  return run?.id ?? null
}
