import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { type Database, fromPostgres } from '../../apps/api/src/platform/db/client.js'
import { migrateToLatest } from '../../apps/api/src/platform/db/migrator.js'

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface BenchDatabase extends Database {
  url: string
  /** Closes the pool and drops the database. */
  drop(): Promise<void>
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** A fresh, migrated database of its own on the bench server; `drop()` removes it. */
export async function createBenchDatabase(poolMax = 4): Promise<BenchDatabase> {
  const name = `gorod_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: BENCH_DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = withDatabase(BENCH_DATABASE_URL, name)
  const database = fromPostgres(url, poolMax)
  await migrateToLatest(database.db)
  return {
    ...database,
    url,
    async drop() {
      await database.close()
      const dropper = new pg.Client({ connectionString: BENCH_DATABASE_URL })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await dropper.end()
    },
  }
}
