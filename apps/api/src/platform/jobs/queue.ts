import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../db/schema.js'

/**
 * The port between "a run exists" and "a worker runs it". Two transports implement it: pg-boss on
 * the service's own database (local) and QStash (serverless). Both deliver at least once; the
 * worker's claim makes the effect exactly once.
 */
export interface JobQueue {
  readonly transport: 'local' | 'qstash'
  /**
   * Hand a freshly created run to the transport. `trx` is the transaction that inserted the run:
   * the local transport enqueues inside it (both commit or neither does); QStash cannot join a
   * database transaction, so it is called again through `afterCommit`.
   */
  dispatch(runId: string, trx: Transaction<DB> | Kysely<DB>): Promise<void>
  /** Work to do once the creating transaction has committed (QStash publish); no-op for local. */
  afterCommit(runId: string): Promise<void>
  /** Re-deliver a run later (a slice that stopped at its deadline, a released run). */
  redeliver(runId: string, delaySeconds?: number): Promise<void>
  stop(): Promise<void>
}
