import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenConnection } from '../../src/platform/jobs/listen-connection.js'
import { createLogger } from '../../src/platform/log.js'
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-db.js'

/** The LISTEN session that wakes workers survives the server terminating it (Postgres only). */
describe.skipIf(!onPostgres)('job wake-up connection (real Postgres)', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(() => database?.close())

  it('delivers notifications, and after its backend is terminated reconnects without an unhandled error', async () => {
    const received: string[] = []
    let reconnects = 0
    const handle = await listenConnection(
      database.url!,
      'gorod_test_wake',
      (payload) => received.push(payload),
      () => {
        reconnects++
      },
      createLogger('silent'),
    )
    const notify = async (payload: string) => {
      await database.pool.query('SELECT pg_notify($1, $2)', ['gorod_test_wake', payload])
    }
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25))
      expect(check()).toBe(true)
    }
    try {
      await notify('one')
      await waitFor(() => received.includes('one'))
      expect(reconnects).toBe(1)

      const admin = new pg.Client({ connectionString: database.url! })
      await admin.connect()
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'gorod-jobs-listen'`,
      )
      await admin.end()
      expect(rowCount).toBe(1)

      await waitFor(() => reconnects === 2)
      await notify('two')
      await waitFor(() => received.includes('two'))
    } finally {
      await handle.close()
    }
  })
})
