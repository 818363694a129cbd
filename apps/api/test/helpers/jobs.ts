import type { Kysely } from 'kysely'
import { configFrom } from '../../src/config.js'
import { enqueueRun } from '../../src/modules/jobs/index.js'
import { systemClock } from '../../src/platform/clock.js'
import type { Database } from '../../src/platform/db/client.js'
import type { DB, RunStatus } from '../../src/platform/db/schema.js'
import type { JobQueue } from '../../src/platform/jobs/queue.js'
import { createLogger } from '../../src/platform/log.js'

let counter = 0

/** Records a run through the real enqueue service; `jobs` null records without delivering. */
export async function createRun(
  database: Database,
  opts: { type?: 'osm' | 'helpers'; city?: string; jobs?: JobQueue | null; maxAttempts?: number } = {},
) {
  counter += 1
  const config = configFrom({ JOB_MAX_ATTEMPTS: String(opts.maxAttempts ?? 3) })
  const { run } = await enqueueRun(
    { database, clock: systemClock, config, log: createLogger('silent'), jobs: opts.jobs ?? null },
    {
      type: opts.type ?? 'osm',
      city: opts.city ?? 'moscow',
      date: `2030-01-${String((counter % 28) + 1).padStart(2, '0')}`,
      boundaryRef: String(1000 + counter),
      source: { kind: 'overpass' },
      trigger: 'admin',
    },
  )
  return run
}

export async function runRow(db: Kysely<DB>, id: string) {
  return db.selectFrom('ingestion_run').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

/** Polls until the run is in one of `statuses`; fails with the last state seen. */
export async function waitForStatus(db: Kysely<DB>, id: string, statuses: RunStatus[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  let last = await runRow(db, id)
  while (!statuses.includes(last.status)) {
    if (Date.now() > deadline) {
      throw new Error(
        `run ${id} still ${last.status} (wanted ${statuses.join('|')}): ${last.error_code ?? ''}`,
      )
    }
    await new Promise((r) => setTimeout(r, 50))
    last = await runRow(db, id)
  }
  return last
}

/**
 * Waits until the run is in one of `statuses` for as long as it shows signs of life (its status,
 * attempts, heartbeat, progress or checkpoint change), whatever the machine's speed; fails only when
 * nothing about the run has changed for `stallMs` (well beyond a lease, the heartbeat's own bound),
 * with the last state seen. For runs whose duration depends on real work under a busy machine.
 */
export async function waitForOutcome(
  db: Kysely<DB>,
  id: string,
  statuses: RunStatus[],
  { stallMs = 90_000 }: { stallMs?: number } = {},
) {
  const fingerprint = (r: Awaited<ReturnType<typeof runRow>>) =>
    JSON.stringify([r.status, r.attempts, r.heartbeat_at, r.updated_at, r.progress, r.started_at])
  let last = await runRow(db, id)
  let seen = fingerprint(last)
  let changedAt = Date.now()
  while (!statuses.includes(last.status)) {
    if (Date.now() - changedAt > stallMs) {
      throw new Error(
        `run ${id} stalled ${last.status} for ${stallMs} ms (wanted ${statuses.join('|')}): ${last.error_code ?? ''}`,
      )
    }
    await new Promise((r) => setTimeout(r, 100))
    last = await runRow(db, id)
    const now = fingerprint(last)
    if (now !== seen) {
      seen = now
      changedAt = Date.now()
    }
  }
  return last
}
