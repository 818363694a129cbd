import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { createPglite, fromPglite, fromPostgres } from '../src/platform/db/client.js'
import { migrateToLatest } from '../src/platform/db/migrator.js'
import { responseValidationEnabled, sumCounts } from './helpers/response-validation.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** PGlite: a dump of a freshly migrated database, loaded by each test file. */
    pgliteTemplate: string | null
    /** Postgres: server URL and the name of a freshly migrated template database. */
    postgres: { url: string; template: string; prefix: string } | null
    /** A directory where each test file writes how many answers it checked against the contract. */
    responseCounts: string
  }
}

/**
 * Runs the migration chain from empty once per test run, then lets every test file start from a copy
 * of the result: a PGlite dump (initdb + migrations per file would cost seconds each) or a Postgres
 * template database.
 */
export default async function setup(project: TestProject) {
  const counts = mkdtempSync(join(tmpdir(), 'gorod-answers-'))
  project.provide('responseCounts', counts)
  const teardown = await setupDatabase(project)
  return async () => {
    const { answers, files } = sumCounts(counts)
    rmSync(counts, { recursive: true, force: true })
    if (responseValidationEnabled)
      process.stdout.write(
        `response validation: ${answers} answers in ${files} test files matched the contract\n`,
      )
    await teardown()
  }
}

async function setupDatabase(project: TestProject): Promise<() => void | Promise<void>> {
  const url = process.env.TEST_DATABASE_URL
  if (url) {
    const prefix = `gorod_t_${randomBytes(4).toString('hex')}`
    const template = `${prefix}_tpl`
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${template}`)
    const database = fromPostgres(withDatabase(url, template), 2)
    await migrateToLatest(database.db)
    await database.close()
    project.provide('postgres', { url, template, prefix })
    project.provide('pgliteTemplate', null)
    return async () => {
      const leftovers = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1`,
        [`${prefix}%`],
      )
      for (const { datname } of leftovers.rows) {
        await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {})
      }
      await admin.end()
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'gorod-test-'))
  const pglite = await createPglite('memory://')
  const database = fromPglite(pglite)
  await migrateToLatest(database.db)
  const dump = await pglite.dumpDataDir('none')
  const file = join(dir, 'template.tar')
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()))
  await database.close()
  project.provide('pgliteTemplate', file)
  project.provide('postgres', null)
  return () => rmSync(dir, { recursive: true, force: true })
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}
