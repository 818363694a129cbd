import { readFileSync } from 'node:fs'
import type { Config } from './config.js'
import { applyConfiguredAppKeys } from './modules/tenants/index.js'
import { systemClock } from './platform/clock.js'
import { type Database, openDatabase } from './platform/db/client.js'
import { migrateToLatest } from './platform/db/migrator.js'
import type { AppDeps } from './platform/http/context.js'
import type { Logger } from './platform/log.js'

export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    return pkg.version
  } catch {
    return '0.0.0'
  }
})()

/** Opens the database, brings it to the latest schema and applies configured app keys. */
export async function prepareDatabase(config: Config, log: Logger): Promise<Database> {
  const database = await openDatabase(config.database, log)
  try {
    const applied = await migrateToLatest(database.db)
    if (applied.length) log.info({ migrations: applied }, 'migrations applied')
    await applyConfiguredAppKeys(database.db, config.tenantAppKeys)
  } catch (err) {
    await database.close().catch(() => {})
    throw err
  }
  return database
}

export function buildDeps(
  config: Config,
  database: Database,
  log: Logger,
  extra: Partial<AppDeps> = {},
): AppDeps {
  return { config, database, log, clock: systemClock, version: VERSION, startedAt: Date.now(), ...extra }
}
