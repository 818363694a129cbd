import { inject } from 'vitest'
import { createPglite, type Database, fromPglite } from '../../src/platform/db/client.js'
import { createPostgresDatabase } from './test-db.js'

/** A database with nothing in it, not even migrations: for testing the migration chain itself. */
export async function createEmptyDatabase(): Promise<Database> {
  const postgres = inject('postgres')
  if (!postgres) return fromPglite(await createPglite('memory://'))
  return createPostgresDatabase(postgres, undefined, 2)
}
