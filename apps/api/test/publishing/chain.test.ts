import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { configFrom } from '../../src/config.js'
import { buildJobHandlers } from '../../src/jobs-runtime.js'
import { systemClock } from '../../src/platform/clock.js'
import { createLogger } from '../../src/platform/log.js'
import { createJobContext, insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'
import { LAVRA_XML } from './publish-fixtures.js'

let database: TestDatabase
let tmp: string

beforeAll(async () => {
  database = await createTestDatabase()
  tmp = await mkdtemp(join(tmpdir(), 'gorod-chain-'))
})
afterAll(async () => {
  await database?.close()
  await rm(tmp, { recursive: true, force: true })
})

function handlers() {
  const config = configFrom({ WORK_DIR: join(tmp, 'work') })
  // No queue: the chained run is recorded (QUEUED) without being delivered, which is what we look at.
  return buildJobHandlers(config, createLogger('silent'), 'test', {
    database,
    clock: systemClock,
    queue: () => null,
  })
}

const publishRuns = async () =>
  (
    await sql<{ status: string; trigger: string; run_date: string; idempotency_key: string }>`
      SELECT status, trigger, run_date, idempotency_key FROM ingestion_run WHERE type = 'publish'`.execute(
      database.db,
    )
  ).rows

describeWithOsmData('osm → publish chain', () => {
  it('a successful osm run enqueues one publish run for its city and date; a repeated delivery adds none', async () => {
    const h = handlers()
    expect(Object.keys(h).sort()).toEqual([
      'account_purge',
      'content_import',
      'helpers',
      'osm',
      'publish',
      'purchase_claim',
      'store_event',
      'tiles',
    ])
    const runId = await insertRunningRun(database.db, { source: { kind: 'file', name: 'lavra.osm' } })
    await runToCompletion(database.db, h.osm!, runId, { filePath: LAVRA_XML })
    expect(await publishRuns()).toEqual([
      {
        status: 'QUEUED',
        trigger: 'chain',
        run_date: '2024-01-01',
        idempotency_key: 'publish|sergiev-posad|171922|2024-01-01',
      },
    ])
    // The finished run delivered again (at-least-once): the same publish run, not a second one.
    await h.osm!(await createJobContext(database.db, runId, { filePath: LAVRA_XML }))
    expect(await publishRuns()).toHaveLength(1)
  })

  it('a failed osm run enqueues nothing', async () => {
    await sql`DELETE FROM ingestion_run WHERE type = 'publish'`.execute(database.db)
    const runId = await insertRunningRun(database.db, { source: { kind: 'file', name: 'missing.osm' } })
    await expect(
      handlers().osm!(
        await createJobContext(database.db, runId, { filePath: join(tmp, 'does-not-exist.osm') }),
      ),
    ).rejects.toThrow()
    expect(await publishRuns()).toEqual([])
  })
})
