import type { Kysely } from 'kysely'
import type { Config } from '../../config.js'
import type { DB } from '../../platform/db/schema.js'
import type { Tenant } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { createStores, type Stores } from './index.js'
import type { AppleStore } from './stores/apple.js'
import type { StoreName } from './stores/port.js'
import type { RuStoreStore } from './stores/rustore.js'

/**
 * The store adapters of a process, made once per database (the RuStore token cache lives in them).
 * A product is known when the tenant offers a catalog item under that store product id.
 */
const cache = new WeakMap<Kysely<DB>, Stores>()

export function storesOf(config: Config, db: Kysely<DB>): Stores {
  let stores = cache.get(db)
  if (!stores) {
    stores = createStores(config.stores, async (tenant, store, productId) => {
      const row = await offerOf(db, { slug: tenant }, store, productId)
      return row !== undefined
    })
    cache.set(db, stores)
  }
  return stores
}

export function appleOf(config: Config, db: Kysely<DB>, tenant: Pick<Tenant, 'slug'>): AppleStore {
  const apple = storesOf(config, db).apple
  if (!apple || !config.stores.apple?.apps[tenant.slug])
    throw new AppError('STORE_NOT_CONFIGURED', 'App Store не подключён для этого приложения')
  return apple
}

export function rustoreOf(config: Config, db: Kysely<DB>, tenant: Pick<Tenant, 'slug'>): RuStoreStore {
  const rustore = storesOf(config, db).rustore
  if (!rustore || !config.stores.rustore?.apps[tenant.slug])
    throw new AppError('STORE_NOT_CONFIGURED', 'RuStore не подключён для этого приложения')
  return rustore
}

/** The published catalog item a tenant sells under this store product id. */
export function offerOf(
  db: Kysely<DB>,
  tenant: { slug: string },
  store: StoreName,
  productId: string,
): Promise<{ item_id: number } | undefined> {
  return db
    .selectFrom('catalog_offer as o')
    .innerJoin('tenants as t', 't.id', 'o.tenant_id')
    .innerJoin('catalog_item as i', 'i.id', 'o.item_id')
    .select('o.item_id')
    .where('t.slug', '=', tenant.slug)
    .where(store === 'apple' ? 'o.apple_product_id' : 'o.rustore_product_id', '=', productId)
    .where('i.paid', '=', true)
    .executeTakeFirst()
}
