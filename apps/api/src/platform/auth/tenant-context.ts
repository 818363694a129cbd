import { type Kysely, sql, type Transaction } from 'kysely'
import type { DB } from '../db/schema.js'

/** The role tenant-scoped statements run as: no BYPASSRLS, so row-level security binds it (0014). */
export const APP_ROLE = 'gorod_app'

/**
 * Puts an open transaction under the tenant's row-level security: `SET LOCAL ROLE` and a
 * transaction-local `app.tenant_id`, both undone at COMMIT or ROLLBACK, so a pooled connection never
 * carries a tenant into the next request. Statements of the transaction that come before this call
 * run as the connecting user.
 */
export async function enterTenant(trx: Transaction<DB>, tenantId: number): Promise<void> {
  await sql`SET LOCAL ROLE ${sql.raw(APP_ROLE)}`.execute(trx)
  await sql`select set_config('app.tenant_id', ${String(tenantId)}, true)`.execute(trx)
}

/**
 * Runs `fn` in a transaction scoped to one tenant. Everything `fn` does must go through `trx`:
 * on the embedded database the transaction holds the only connection, so a query through the pool
 * from inside `fn` would wait for it forever.
 */
export function withTenant<T>(
  db: Kysely<DB>,
  tenantId: number,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await enterTenant(trx, tenantId)
    return fn(trx)
  })
}
