import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyConfiguredAppKeys, listTenants } from '../../src/modules/tenants/index.js'
import type { Database } from '../../src/platform/db/client.js'
import { migrations } from '../../src/platform/db/migrations/index.js'
import { MigrationError, migrateToLatest } from '../../src/platform/db/migrator.js'
import { createEmptyDatabase } from '../helpers/empty-db.js'

describe('migration chain from an empty database', () => {
  let database: Database
  beforeAll(async () => {
    database = await createEmptyDatabase()
  })
  afterAll(() => database.close())

  it('applies every migration in order, then nothing on a second run', async () => {
    const applied = await migrateToLatest(database.db)
    expect(applied).toEqual(Object.keys(migrations).sort())
    const before = await counts(database)
    expect(await migrateToLatest(database.db)).toEqual([])
    expect(await counts(database)).toEqual(before)
  })

  it('seeds two tenants and at least six real cities, Moscow and Sergiev Posad among them', async () => {
    const tenants = await listTenants(database.db)
    expect(tenants.map((t) => t.slug)).toEqual(['gorod', 'progulki'])
    const cities = await database.db.selectFrom('cities').selectAll().execute()
    expect(cities.length).toBeGreaterThanOrEqual(6)
    expect(cities.find((c) => c.slug === 'moscow')?.osm_relation_id).toBe(102269)
    expect(cities.some((c) => c.slug === 'sergiev-posad')).toBe(true)
  })

  it('has the geo and text-search extensions installed', async () => {
    const { rows } = await sql<{ extname: string }>`SELECT extname FROM pg_extension`.execute(database.db)
    expect(rows.map((r) => r.extname)).toEqual(expect.arrayContaining(['cube', 'earthdistance', 'pg_trgm']))
  })

  it('replaces development app keys with configured ones and refuses an unknown tenant', async () => {
    await applyConfiguredAppKeys(database.db, { progulki: 'prod-key-for-progulki' })
    const keys = Object.fromEntries((await listTenants(database.db)).map((t) => [t.slug, t.app_key]))
    expect(keys.progulki).toBe('prod-key-for-progulki')
    await expect(applyConfiguredAppKeys(database.db, { nobody: 'prod-key-xxxxxxxx' })).rejects.toThrow(
      /nobody/,
    )
  })

  it('stops on a failing migration and names it with the database error', async () => {
    const broken = {
      ...migrations,
      '9999_broken': {
        up: async (db: typeof database.db) => void (await sql`SELECT * FROM no_such_table`.execute(db)),
      },
    }
    const err = await migrateToLatest(database.db, broken).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MigrationError)
    expect((err as MigrationError).migration).toBe('9999_broken')
    expect((err as Error).message).toMatch(/9999_broken.*no_such_table/)
  })
})

async function counts(database: Database) {
  const { rows } = await sql<{ t: number; c: number; tc: number }>`
    SELECT (SELECT count(*) FROM tenants) AS t, (SELECT count(*) FROM cities) AS c,
           (SELECT count(*) FROM tenant_cities) AS tc`.execute(database.db)
  return rows[0]
}
