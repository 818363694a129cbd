import type { Kysely } from 'kysely'
import { withTenant } from '../../platform/auth/index.js'
import type { DB, EntitlementTable } from '../../platform/db/schema.js'
import { AppError } from '../../platform/http/errors.js'

/**
 * Grants an account a catalog item of its tenant. Idempotent: an open entitlement stays as it is.
 * The purchases module calls this once a store confirms a purchase; operators and tests may grant.
 */
export async function grantEntitlement(
  db: Kysely<DB>,
  tenantId: number,
  accountId: string,
  catalogItemId: number,
  source: EntitlementTable['source'],
): Promise<{ created: boolean }> {
  const offered = await db
    .selectFrom('catalog_offer')
    .select('item_id')
    .where('tenant_id', '=', tenantId)
    .where('item_id', '=', catalogItemId)
    .executeTakeFirst()
  if (!offered)
    throw new AppError('CATALOG_ITEM_NOT_FOUND', `Позиция ${catalogItemId} не предлагается этим приложением`)
  return withTenant(db, tenantId, async (trx) => {
    const row = await trx
      .insertInto('entitlement')
      .values({ tenant_id: tenantId, account_id: accountId, catalog_item_id: catalogItemId, source })
      .onConflict((oc) =>
        oc.columns(['account_id', 'catalog_item_id']).where('ended_at', 'is', null).doNothing(),
      )
      .returning('id')
      .executeTakeFirst()
    return { created: row !== undefined }
  })
}

/** Ends an open entitlement (a refund or a revocation); the row stays as a record. */
export async function endEntitlement(
  db: Kysely<DB>,
  tenantId: number,
  accountId: string,
  catalogItemId: number,
) {
  await withTenant(db, tenantId, (trx) =>
    trx
      .updateTable('entitlement')
      .set({ ended_at: new Date() })
      .where('account_id', '=', accountId)
      .where('catalog_item_id', '=', catalogItemId)
      .where('ended_at', 'is', null)
      .execute(),
  )
}

/** The catalog items the account owns now, read under its tenant's row-level security. */
export async function ownedItemIds(
  db: Kysely<DB>,
  tenantId: number,
  accountId: string,
): Promise<Set<number>> {
  const rows = await withTenant(db, tenantId, (trx) =>
    trx
      .selectFrom('entitlement')
      .select('catalog_item_id')
      .where('account_id', '=', accountId)
      .where('ended_at', 'is', null)
      .execute(),
  )
  return new Set(rows.map((r) => Number(r.catalog_item_id)))
}
