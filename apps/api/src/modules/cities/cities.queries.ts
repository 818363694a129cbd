import type { Kysely } from 'kysely'
import type { DB } from '../../platform/db/schema.js'

export function listTenantCities(db: Kysely<DB>, tenantId: number) {
  return db
    .selectFrom('cities as c')
    .innerJoin('tenant_cities as tc', 'tc.city_id', 'c.id')
    .where('tc.tenant_id', '=', tenantId)
    .where('c.active', '=', true)
    .selectAll('c')
    .orderBy('c.name_ru')
    .execute()
}

export function findTenantCity(db: Kysely<DB>, tenantId: number, slug: string) {
  return db
    .selectFrom('cities as c')
    .innerJoin('tenant_cities as tc', 'tc.city_id', 'c.id')
    .where('tc.tenant_id', '=', tenantId)
    .where('c.slug', '=', slug)
    .where('c.active', '=', true)
    .selectAll('c')
    .executeTakeFirst()
}

export function findCityBySlug(db: Kysely<DB>, slug: string) {
  return db.selectFrom('cities').selectAll().where('slug', '=', slug).executeTakeFirst()
}

export type CityRow = NonNullable<Awaited<ReturnType<typeof findCityBySlug>>>
