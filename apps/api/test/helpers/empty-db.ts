import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { createPglite, type Database, fromPglite, fromPostgres } from '../../src/platform/db/client.js'
import { withDatabase } from '../global-setup.js'

/** A database with nothing in it, not even migrations: for testing the migration chain itself. */
export async function createEmptyDatabase(): Promise<Database> {
  const postgres = inject('postgres')
  if (!postgres) return fromPglite(await createPglite('memory://'))
  const name = `${postgres.prefix}_empty_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: postgres.url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const database = fromPostgres(withDatabase(postgres.url, name), 2)
  return {
    ...database,
    async close() {
      await database.close()
      const dropper = new pg.Client({ connectionString: postgres.url })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
      await dropper.end()
    },
  }
}
