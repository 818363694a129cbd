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
