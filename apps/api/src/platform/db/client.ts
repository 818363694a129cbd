import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { cube } from '@electric-sql/pglite/contrib/cube'
import { earthdistance } from '@electric-sql/pglite/contrib/earthdistance'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'
import { createPgConfig } from '@electric-sql/pglite/node-postgres'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Config } from '../../config.js'
import type { Logger } from '../log.js'
import { isNewDataDir, readClusterTemplate, writeClusterTemplate } from './pglite-template.js'
import type { DB } from './schema.js'

// int8 (counts, OSM ids) fits a JS number for every value this service stores; dates stay
// 'YYYY-MM-DD' strings so a run date never shifts with the server's time zone.
pg.types.setTypeParser(20, (v) => Number(v))
pg.types.setTypeParser(1082, (v) => v)

export const PGLITE_EXTENSIONS = { cube, earthdistance, pg_trgm }

export interface Database {
  db: Kysely<DB>
  /** The pool every statement goes through, pg-boss's included (PGlite is one session: see ADR 001). */
  pool: pg.Pool
  kind: 'postgres' | 'pglite'
  close(): Promise<void>
}

const EXTENSION_NAMES = Object.keys(PGLITE_EXTENSIONS)

/**
 * Opens (or creates) a PGlite database. A new data directory starts from the install-time cluster
 * template when there is one (see pglite-template.ts), which spares the first start its initdb.
 */
export async function createPglite(dataDir: string, loadDataDir?: Blob): Promise<PGlite> {
  const persistent = !dataDir.startsWith('memory://')
  const initial =
    loadDataDir ?? (persistent && isNewDataDir(dataDir) ? readClusterTemplate(EXTENSION_NAMES) : undefined)
  if (persistent) mkdirSync(dataDir, { recursive: true })
  const pglite = new PGlite(dataDir, {
    extensions: PGLITE_EXTENSIONS,
    ...(initial ? { loadDataDir: initial } : {}),
  })
  await pglite.waitReady
  return pglite
}

/** Makes the install-time cluster template (`npm run cli -- pglite-template`, run by `npm ci`). */
export async function prepareClusterTemplate(): Promise<string> {
  const pglite = new PGlite('memory://', { extensions: PGLITE_EXTENSIONS })
  await pglite.waitReady
  try {
    return await writeClusterTemplate(EXTENSION_NAMES, await pglite.dumpDataDir('none'))
  } finally {
    await pglite.close()
  }
}

export function fromPglite(pglite: PGlite, log?: Logger): Database {
  const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig)
  pool.on('error', (err) => log?.error({ err }, 'database pool error'))
  return {
    db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }),
    pool,
    kind: 'pglite',
    async close() {
      await pool.end()
      await pglite.close()
    },
  }
}

export function fromPostgres(url: string, poolMax: number, log?: Logger): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'gorod-api',
  })
  // Without a listener an idle client's error (a restarted server, a terminated backend) kills the process.
  pool.on('error', (err) => log?.error({ err }, 'database pool error'))
  // The pool listens only to idle clients. A checked-out one (inside a transaction, between two
  // queries) that the server terminates would raise its error with no listener: the query in flight,
  // or the next one, fails instead, and the pool drops the client when it comes back.
  pool.on('connect', (client) => {
    client.on('error', (err) => log?.warn({ err: err.message }, 'database connection lost'))
  })
  return {
    db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }),
    pool,
    kind: 'postgres',
    async close() {
      await pool.end()
    },
  }
}

export async function openDatabase(config: Config['database'], log?: Logger): Promise<Database> {
  if (config.kind === 'postgres') {
    const database = fromPostgres(config.url, config.poolMax, log)
    try {
      await database.pool.query('select 1')
    } catch (err) {
      await database.pool.end().catch(() => {})
      throw new DatabaseUnavailableError(describeConnection(config.url), err)
    }
    return database
  }
  return fromPglite(await createPglite(config.dir), log)
}

export class DatabaseUnavailableError extends Error {
  constructor(target: string, cause: unknown) {
    super(`Cannot connect to the database at ${target}: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    })
    this.name = 'DatabaseUnavailableError'
  }
}

/** host:port/database without user or password, for messages. */
export function describeConnection(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`
  } catch {
    return '(unparseable DATABASE_URL)'
  }
}
