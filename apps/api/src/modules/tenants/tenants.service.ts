import type { Kysely } from 'kysely'
import type { DB } from '../../platform/db/schema.js'

/**
 * Production app keys come from configuration (TENANT_APP_KEYS); the seed holds the documented
 * development keys. A configured key replaces the stored one; an unknown slug is a configuration error.
 */
export async function applyConfiguredAppKeys(db: Kysely<DB>, keys: Record<string, string>): Promise<void> {
  for (const [slug, key] of Object.entries(keys)) {
    const res = await db
      .updateTable('tenants')
      .set({ app_key: key })
      .where('slug', '=', slug)
      .executeTakeFirst()
    if (res.numUpdatedRows === 0n) throw new Error(`TENANT_APP_KEYS names an unknown tenant: ${slug}`)
  }
}

export function listTenants(db: Kysely<DB>) {
  return db.selectFrom('tenants').select(['slug', 'name', 'app_key']).orderBy('id').execute()
}
