import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely'
import { migrations } from './migrations/index.js'

export class MigrationError extends Error {
  constructor(
    readonly migration: string | null,
    cause: unknown,
  ) {
    super(`Migration ${migration ?? '(unknown)'} failed: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    })
    this.name = 'MigrationError'
  }
}

export function createMigrator(db: Kysely<any>, list: Record<string, Migration> = migrations): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => list } })
}

/**
 * Brings the schema to the latest migration. Kysely's `migrateToLatest()` never throws: it returns
 * `{ error, results }`, so the failed step is found and reported here by name.
 */
export async function migrateToLatest(
  db: Kysely<any>,
  list: Record<string, Migration> = migrations,
): Promise<string[]> {
  // A restart of an up-to-date database skips the migrator's locking round-trips (start-up time matters).
  if (await isUpToDate(db, list)) return []
  const { error, results }: MigrationResultSet = await createMigrator(db, list).migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? null
    throw new MigrationError(failed, error)
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

async function isUpToDate(db: Kysely<any>, list: Record<string, Migration>): Promise<boolean> {
  try {
    const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db)
    const applied = new Set(rows.map((r) => r.name))
    return Object.keys(list).every((name) => applied.has(name))
  } catch {
    return false
  }
}
