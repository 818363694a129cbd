import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { inject } from 'vitest'
import { createPglite, type Database, fromPglite, fromPostgres } from '../../src/platform/db/client.js'
import { withDatabase } from '../global-setup.js'

export interface TestDatabase extends Database {
  /** Connection string of this file's own database (Postgres only), for a second process or pool. */
  url: string | null
}

/** True when the suite runs against a real Postgres server (TEST_DATABASE_URL). */
export const onPostgres = inject('postgres') !== null

/** A database of this test file's own, already migrated: a copy of the run's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const postgres = inject('postgres')
  if (postgres) return createPostgresDatabase(postgres, postgres.template)
  const file = inject('pgliteTemplate')
  if (!file) throw new Error('test database template missing: is the vitest globalSetup configured?')
  const pglite = await createPglite('memory://', new Blob([readFileSync(file)]))
  return { ...fromPglite(pglite), url: null }
}

/**
 * A database of its own on the test server (a copy of `template`, or empty), dropped by `close()`.
 */
export async function createPostgresDatabase(
  postgres: { url: string; prefix: string },
  template?: string,
  poolMax = 10,
): Promise<TestDatabase> {
  const name = `${postgres.prefix}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: postgres.url })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`)
  } finally {
    await admin.end()
  }
  const url = withDatabase(postgres.url, name)
  const database = fromPostgres(url, poolMax)
  return {
    ...database,
    url,
    async close() {
      await database.close()
      const dropper = new pg.Client({ connectionString: postgres.url })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
      await dropper.end()
    },
  }
}
