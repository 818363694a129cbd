import { sql } from 'kysely'
import { withTenant } from '../../platform/auth/index.js'
import { type JobHandler, PermanentJobError } from '../../platform/jobs/types.js'

/**
 * The `account_purge` job: removes what the tombstoned account still holds. Refresh tokens are
 * deleted, the account code (the only thing that identifies the person to us) is erased, its
 * entitlements, purchase intents and claims are deleted, and ledger
 * rows that law requires to be kept lose their link to the account. The tombstone (id, tenant, dates)
 * stays so a token of the account stays refused and a repeated deletion finds its run. Idempotent:
 * a second delivery finds nothing left to remove.
 */
export const purgeAccountHandler: JobHandler = async (ctx) => {
  const source = ctx.run.source as { kind?: string; tenant?: string }
  if (source.kind !== 'account_deletion' || !source.tenant)
    throw new PermanentJobError('BAD_PURGE_SOURCE', 'an account_purge run names no tenant')
  const tenant = await ctx.db
    .selectFrom('tenants')
    .select('id')
    .where('slug', '=', source.tenant)
    .executeTakeFirst()
  if (!tenant) throw new PermanentJobError('UNKNOWN_TENANT', `tenant ${source.tenant} does not exist`)
  await ctx.heartbeat()
  const stats = await withTenant(ctx.db, tenant.id, async (trx) => {
    const account = await trx
      .selectFrom('account')
      .select(['id', 'purged_at'])
      .where('purge_run_id', '=', ctx.run.id)
      .executeTakeFirst()
    if (!account)
      return { accounts: 0, refresh_tokens_deleted: 0, ledger_links_cut: 0, entitlements_deleted: 0 }
    const tokens = await trx
      .deleteFrom('refresh_token')
      .where('account_id', '=', account.id)
      .executeTakeFirst()
    // What the account owned goes with it; intents and claims bound it to purchases.
    const entitlements = await trx
      .deleteFrom('entitlement')
      .where('account_id', '=', account.id)
      .executeTakeFirst()
    await trx.deleteFrom('purchase_intent').where('account_id', '=', account.id).execute()
    await trx.deleteFrom('purchase_claim').where('account_id', '=', account.id).execute()
    const ledger = await trx
      .updateTable('store_transactions')
      .set({ account_id: null })
      .where('account_id', '=', account.id)
      .executeTakeFirst()
    await trx
      .updateTable('account')
      .set({ account_code: null, purged_at: sql`coalesce(purged_at, now())` })
      .where('id', '=', account.id)
      .execute()
    if (!account.purged_at)
      await trx
        .insertInto('audit_event')
        .values({
          tenant_id: tenant.id,
          kind: 'account_purged',
          details: JSON.stringify({ job_id: ctx.run.id }),
        })
        .execute()
    return {
      accounts: 1,
      refresh_tokens_deleted: Number(tokens.numDeletedRows),
      ledger_links_cut: Number(ledger.numUpdatedRows),
      entitlements_deleted: Number(entitlements.numDeletedRows),
    }
  })
  return { status: 'succeeded', stats }
}
