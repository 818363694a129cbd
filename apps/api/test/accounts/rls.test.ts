import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withTenant } from '../../src/platform/auth/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'

/**
 * Row-level security is proven through the service's own role: the test database connects as a
 * superuser, which bypasses RLS, so every check here goes through `withTenant` or `SET ROLE`.
 */
let database: TestDatabase
let gorod: number
let progulki: number

beforeAll(async () => {
  database = await createTestDatabase()
  const tenants = await database.db.selectFrom('tenants').select(['id', 'slug']).execute()
  gorod = tenants.find((t) => t.slug === 'gorod')!.id
  progulki = tenants.find((t) => t.slug === 'progulki')!.id
  for (const [tenantId, code] of [
    [gorod, 'AAAABBBBCCCC'],
    [progulki, 'DDDDEEEEFFFF'],
  ] as const) {
    await withTenant(database.db, tenantId, async (trx) => {
      const account = await trx
        .insertInto('account')
        .values({ tenant_id: tenantId, account_code: code })
        .returning('id')
        .executeTakeFirstOrThrow()
      await trx
        .insertInto('refresh_token')
        .values({
          tenant_id: tenantId,
          account_id: account.id,
          family_id: account.id,
          token_hash: Buffer.from(code),
          expires_at: new Date(Date.now() + 86_400_000),
        })
        .execute()
    })
  }
})
afterAll(() => database.close())

describe('row-level security of account tables', () => {
  it('the superuser connection sees every row (which is why the service switches role)', async () => {
    const { count } = await database.db
      .selectFrom('account')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow()
    expect(Number(count)).toBe(2)
  })

  it('the app role without a tenant setting sees no rows and cannot write', async () => {
    await database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL ROLE gorod_app`.execute(trx)
      expect(await trx.selectFrom('account').selectAll().execute()).toEqual([])
      expect(await trx.selectFrom('refresh_token').selectAll().execute()).toEqual([])
      const updated = await trx.updateTable('account').set({ deleted_at: new Date() }).executeTakeFirst()
      expect(updated.numUpdatedRows).toBe(0n)
    })
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`SET LOCAL ROLE gorod_app`.execute(trx)
        await trx.insertInto('account').values({ tenant_id: gorod, account_code: 'GGGGHHHHJJJJ' }).execute()
      }),
    ).rejects.toThrow(/row-level security/)
  })

  it("one tenant's context reads only its own rows", async () => {
    const seen = await withTenant(database.db, gorod, (trx) =>
      trx.selectFrom('account').select(['account_code', 'tenant_id']).execute(),
    )
    expect(seen).toEqual([{ account_code: 'AAAABBBBCCCC', tenant_id: gorod }])
    const tokens = await withTenant(database.db, progulki, (trx) =>
      trx.selectFrom('refresh_token').select('tenant_id').execute(),
    )
    expect(tokens).toEqual([{ tenant_id: progulki }])
  })

  it("one tenant's context cannot change, delete or insert another's rows", async () => {
    await withTenant(database.db, gorod, async (trx) => {
      const upd = await trx
        .updateTable('account')
        .set({ deleted_at: new Date() })
        .where('account_code', '=', 'DDDDEEEEFFFF')
        .executeTakeFirst()
      expect(upd.numUpdatedRows).toBe(0n)
      const del = await trx.deleteFrom('refresh_token').where('tenant_id', '=', progulki).executeTakeFirst()
      expect(del.numDeletedRows).toBe(0n)
    })
    await expect(
      withTenant(database.db, gorod, (trx) =>
        trx.insertInto('account').values({ tenant_id: progulki, account_code: 'KKKKMMMMNNNN' }).execute(),
      ),
    ).rejects.toThrow(/row-level security/)
    // Moving a row of one's own tenant into another is refused as well (WITH CHECK).
    await expect(
      withTenant(database.db, gorod, (trx) =>
        trx
          .updateTable('account')
          .set({ tenant_id: progulki })
          .where('account_code', '=', 'AAAABBBBCCCC')
          .execute(),
      ),
    ).rejects.toThrow(/row-level security/)
    const other = await database.db
      .selectFrom('account')
      .select(['account_code', 'deleted_at', 'tenant_id'])
      .where('tenant_id', '=', progulki)
      .execute()
    expect(other).toEqual([{ account_code: 'DDDDEEEEFFFF', deleted_at: null, tenant_id: progulki }])
  })

  it('the tenant setting and the role end with the transaction', async () => {
    await withTenant(database.db, gorod, async () => {})
    const after = await sql<{ role: string; tenant: string | null }>`
      select current_user as role, current_setting('app.tenant_id', true) as tenant`.execute(database.db)
    expect(after.rows[0]!.role).not.toBe('gorod_app')
    expect(after.rows[0]!.tenant ?? '').toBe('')
  })

  it('the app role does not bypass row-level security', async () => {
    const role = await sql<{ rolbypassrls: boolean; rolsuper: boolean; rolcanlogin: boolean }>`
      select rolbypassrls, rolsuper, rolcanlogin from pg_roles where rolname = 'gorod_app'`.execute(
      database.db,
    )
    expect(role.rows).toEqual([{ rolbypassrls: false, rolsuper: false, rolcanlogin: false }])
    const forced = await sql<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>`
      select relname, relrowsecurity, relforcerowsecurity from pg_class
      where relname in ('account', 'refresh_token') order by relname`.execute(database.db)
    expect(forced.rows).toEqual([
      { relname: 'account', relrowsecurity: true, relforcerowsecurity: true },
      { relname: 'refresh_token', relrowsecurity: true, relforcerowsecurity: true },
    ])
  })
})
