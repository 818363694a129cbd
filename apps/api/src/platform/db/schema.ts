import type { ColumnType, Generated } from 'kysely'

/** Table types for Kysely. Kept beside the migrations: a migration that changes a table changes this. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface TenantsTable {
  id: Generated<number>
  slug: string
  name: string
  app_key: string
  created_at: Generated<Timestamp>
}

export interface CitiesTable {
  id: Generated<number>
  slug: string
  name_ru: string
  osm_relation_id: number
  bbox_min_lon: number
  bbox_min_lat: number
  bbox_max_lon: number
  bbox_max_lat: number
  center_lat: number
  center_lon: number
  timezone: string
  active: Generated<boolean>
  created_at: Generated<Timestamp>
}

export interface TenantCitiesTable {
  tenant_id: number
  city_id: number
}

export interface DB {
  tenants: TenantsTable
  cities: CitiesTable
  tenant_cities: TenantCitiesTable
}
