import type { ColumnType, Generated } from 'kysely'

/** Table types for Kysely. Kept beside the migrations: a migration that changes a table changes this. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
/** jsonb: read as parsed JSON, written as a JSON string (pg would turn a JS array into a Postgres array). */
export type Jsonb<T> = ColumnType<T, string, string>
type NullableJsonb<T> = ColumnType<T | null, string | null | undefined, string | null>

export interface TenantsTable {
  id: Generated<number>
  slug: string
  name: string
  app_key: string
  created_at: Timestamp
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
  created_at: Timestamp
  boundary: NullableJsonb<unknown>
  boundary_source: string | null
  boundary_fetched_at: Timestamp | null
  /** Reference latitude of the city's planar projection (0004); fixed once set. */
  ref_lat: Generated<number>
}

export interface TenantCitiesTable {
  tenant_id: number
  city_id: number
}

export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
export type RunTrigger = 'admin' | 'cron' | 'cli' | 'chain' | 'start'
/** A staged row's change state: derived from the row and the city's runs, not stored (ADR 009). */
export type ChangeState = 'new' | 'changed' | 'unchanged' | 'missing'

export interface IngestionRunTable {
  id: Generated<string>
  type: string
  /** NULL only for job types without a city (`account_purge`, migration 0014). */
  city_id: number | null
  boundary_ref: string
  run_date: string
  idempotency_key: string
  status: Generated<RunStatus>
  source: Jsonb<unknown>
  trigger: RunTrigger
  attempts: Generated<number>
  max_attempts: number
  error_code: string | null
  error_message: string | null
  stats: NullableJsonb<Record<string, unknown>>
  progress: NullableJsonb<Record<string, unknown>>
  checkpoint: NullableJsonb<unknown>
  cancel_requested: Generated<boolean>
  worker_id: string | null
  created_at: Timestamp
  updated_at: Timestamp
  started_at: Timestamp | null
  finished_at: Timestamp | null
  heartbeat_at: Timestamp | null
}

interface StagedOsmColumns {
  id: Generated<number>
  city_id: number
  osm_type: 'node' | 'way' | 'relation'
  osm_id: number
  names: Jsonb<Record<string, string>>
  tags: Jsonb<Record<string, string>>
  lat: number
  lon: number
  website: string | null
  opening_hours: string | null
  phone: string | null
  address: NullableJsonb<Record<string, unknown>>
  source_url: string
  osm_version: number | null
  osm_timestamp: Timestamp | null
  license: string
  attribution: string
  content_hash: string
  first_seen_run: string
  last_changed_run: string
  missing_since: Timestamp | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface PoiIngestionStagingTable extends StagedOsmColumns {
  category: string
  name_ru: string | null
  name_source: string | null
  wikidata: string | null
  wikipedia: NullableJsonb<Record<string, unknown>>
  heritage: NullableJsonb<Record<string, unknown>>
  gate_results: NullableJsonb<Record<string, unknown>>
  gates_passed: boolean | null
  gates_evaluated_at: Timestamp | null
  review_state: 'rejected' | null
  reviewed_by: string | null
  review_reason: string | null
  reviewed_at: Timestamp | null
}

export interface HelperPlaceTable extends StagedOsmColumns {
  kind: string
  name: string | null
  name_source: string | null
  operator: string | null
  /** Planar point for KNN, filled by a trigger from lat/lon and the city's ref_lat. */
  geo: Generated<{ x: number; y: number }>
}

/** Published POIs only (0004); `geo` and `search_name` are derived by the database. */
export interface PoiTable {
  id: Generated<number>
  staging_id: number
  city_id: number
  osm_type: 'node' | 'way' | 'relation'
  osm_id: number
  category: string
  name_ru: string
  search_name: Generated<string>
  lat: number
  lon: number
  geo: Generated<{ x: number; y: number }>
  address: NullableJsonb<Record<string, unknown>>
  opening_hours: string | null
  website: string | null
  phone: string | null
  wikidata: string | null
  wikipedia: NullableJsonb<Record<string, unknown>>
  heritage: NullableJsonb<Record<string, unknown>>
  sources: Jsonb<Array<Record<string, unknown>>>
  license: string
  attribution: string
  staging_hash: string
  published: Generated<boolean>
  unpublished_reason: string | null
  unpublished_at: Timestamp | null
  published_at: Timestamp
  created_at: Timestamp
  updated_at: Timestamp
}

export interface DB {
  tenants: TenantsTable
  cities: CitiesTable
  tenant_cities: TenantCitiesTable
  ingestion_run: IngestionRunTable
  poi_ingestion_staging: PoiIngestionStagingTable
  helper_place: HelperPlaceTable
  poi: PoiTable
  store_transactions: StoreTransactionsTable
  store_transaction_states: StoreTransactionStatesTable
  store_events: StoreEventsTable
  // 0014_accounts
  account: AccountTable
  refresh_token: RefreshTokenTable
  auth_signing_key: AuthSigningKeyTable
  audit_event: AuditEventTable
  rate_limit_hit: RateLimitHitTable
  media: MediaTable
  tour: TourTable
  tour_version: TourVersionTable
  tour_stop: TourStopTable
  catalog_item: CatalogItemTable
  catalog_item_tour: CatalogItemTourTable
  catalog_offer: CatalogOfferTable
  content_audit: ContentAuditTable
  entitlement: EntitlementTable
  purchase_intent: PurchaseIntentTable
  purchase_claim: PurchaseClaimTable
  pack_signing_key: PackSigningKeyTable
  city_pack: CityPackTable
  city_pack_file: CityPackFileTable
  city_pack_record: CityPackRecordTable
  pack_blob: PackBlobTable
  admin_action: AdminActionTable
}

/** Migration 0020: offline city packs. */
export interface PackSigningKeyTable {
  kid: string
  private_pkcs8: string
  public_x: string
  created_at: Generated<Date>
}

export interface CityPackTable {
  id: Generated<string>
  city_id: number
  version: number
  data_hash: string
  poi_count: number
  helper_count: number
  created_at: Generated<Date>
}

export type PackRole = 'pois' | 'helpers' | 'poi_tiles' | 'basemap'

export interface CityPackFileTable {
  pack_id: string
  role: PackRole
  sha256: string
  bytes: number
  media_type: string
}

export interface CityPackRecordTable {
  pack_id: string
  kind: 'poi' | 'helper'
  record_id: number
  hash: string
}

export interface PackBlobTable {
  sha256: string
  scope: string
  store: 'blobs' | 'media'
  media_type: string
  bytes: number
  created_at: Generated<Date>
}

/** Migration 0013: the purchase ledger (append-only) and the store notifications inbox. */
export interface StoreTransactionsTable {
  id: Generated<string>
  tenant_id: number
  store: 'apple' | 'rustore'
  environment: 'production' | 'sandbox'
  store_transaction_id: string
  original_transaction_id: string
  product_id: string | null
  binding_token: string | null
  account_id: string | null
  purchased_at: Date | null
  raw: Jsonb<unknown>
  recorded_at: Generated<Date>
}

export interface StoreTransactionStatesTable {
  id: Generated<string>
  transaction_id: string
  status: 'purchased' | 'pending' | 'failed' | 'cancelled' | 'refunded' | 'revoked'
  source: 'confirm' | 'notification' | 'reconcile' | 'restore'
  raw: Jsonb<unknown>
  observed_at: Generated<Date>
}

export interface StoreEventsTable {
  id: Generated<string>
  store: 'apple' | 'rustore'
  external_event_id: string
  tenant_id: number | null
  payload: Jsonb<unknown>
  status: Generated<'received' | 'processed' | 'failed' | 'ignored'>
  error: string | null
  attempts: Generated<number>
  received_at: Generated<Date>
  processed_at: Date | null
}

/** Migration 0014: anonymous accounts, refresh tokens (row-level security per tenant), keys, audit. */
export interface AccountTable {
  id: Generated<string>
  tenant_id: number
  /** NULL once the account's personal data is purged (the tombstone stays). */
  account_code: string | null
  created_at: Generated<Date>
  deleted_at: Date | null
  purge_run_id: string | null
  purged_at: Date | null
}

export interface RefreshTokenTable {
  id: Generated<string>
  tenant_id: number
  account_id: string
  family_id: string
  token_hash: Buffer
  created_at: Generated<Date>
  expires_at: Date
  used_at: Date | null
  revoked_at: Date | null
}

export interface AuthSigningKeyTable {
  kid: string
  private_jwk: Jsonb<Record<string, unknown>>
  created_at: Generated<Date>
}

export type AuditKind = 'account_deleted' | 'account_purged' | 'refresh_reuse'

export interface AuditEventTable {
  id: Generated<string>
  tenant_id: number | null
  kind: AuditKind
  details: Jsonb<Record<string, unknown>>
  occurred_at: Generated<Date>
}

export interface RateLimitHitTable {
  bucket: string
  window_start: Date
  hits: Generated<number>
}

/** Migration 0015: media, tours with immutable published versions, catalog items and offers, audit. */
export type ContentStatus = 'draft' | 'published' | 'unpublished'

export interface MediaTable {
  sha256: string
  kind: 'image' | 'audio'
  mime: string
  bytes: number
  width: number | null
  height: number | null
  duration_ms: number | null
  author: string | null
  license: string | null
  source_url: string | null
  storage_key: string
  created_by: string
  created_at: Generated<Date>
}

export interface TourTable {
  id: Generated<number>
  city_id: number
  slug: string
  status: Generated<ContentStatus>
  draft_version_id: number | null
  published_version_id: number | null
  unpublished_reason: string | null
  review_reason: string | null
  review_flagged_at: Date | null
  created_at: Generated<Date>
  updated_at: Generated<Date>
}

export interface TourVersionTable {
  id: Generated<number>
  tour_id: number
  number: number
  title_ru: string
  summary_ru: string
  description_ru: string
  cover_sha256: string | null
  duration_min: number
  length_m: number
  content_hash: string
  created_by: string
  created_at: Generated<Date>
  published_at: Date | null
  published_by: string | null
}

export interface TourStopTable {
  version_id: number
  position: number
  poi_id: number | null
  lat: number
  lon: number
  title_ru: string
  narration_ru: string
  trigger_radius_m: number
  image_sha256: string | null
  audio_sha256: string | null
}

export interface CatalogItemTable {
  id: Generated<number>
  city_id: number
  slug: string
  kind: 'tour' | 'bundle'
  title_ru: string
  summary_ru: string
  cover_sha256: string | null
  paid: boolean
  status: Generated<ContentStatus>
  content_hash: string
  unpublished_reason: string | null
  published_at: Date | null
  created_at: Generated<Date>
  updated_at: Generated<Date>
}

export interface CatalogItemTourTable {
  item_id: number
  tour_id: number
  position: number
}

export interface CatalogOfferTable {
  item_id: number
  tenant_id: number
  apple_product_id: string | null
  rustore_product_id: string | null
}

export interface ContentAuditTable {
  id: Generated<number>
  at: Generated<Date>
  actor: string
  entity: 'tour' | 'catalog_item' | 'media'
  entity_id: string
  action: string
  detail: NullableJsonb<Record<string, unknown>>
}

/** Migration 0016: which account owns which catalog item (tenant-scoped, row-level security). */
export interface EntitlementTable {
  id: Generated<number>
  tenant_id: number
  account_id: string
  catalog_item_id: number
  source: 'free' | 'grant' | 'purchase' | 'restore'
  granted_at: Generated<Date>
  ended_at: Date | null
  /** Migration 0018: the ledger row of a `purchase` or `restore` entitlement. */
  store_transaction_id: string | null
  ended_reason: 'refunded' | 'revoked' | 'moved' | null
}

/** Migration 0018: an account's announced purchase; its id binds the store transaction. */
export interface PurchaseIntentTable {
  id: string
  tenant_id: number
  account_id: string
  catalog_item_id: number
  store: 'apple' | 'rustore'
  product_id: string
  created_at: Generated<Date>
  completed_at: Date | null
  transaction_id: string | null
}

/** Migration 0018: a confirmation the store has not decided yet, kept with its proof for a job. */
export interface PurchaseClaimTable {
  id: Generated<string>
  tenant_id: number
  account_id: string
  store: 'apple' | 'rustore'
  proof_ref: string
  proof: Jsonb<unknown>
  state: Generated<'waiting' | 'confirmed' | 'refused'>
  reason: string | null
  run_id: string | null
  created_at: Generated<Date>
  settled_at: Date | null
}

/** Migration 0022: every successful change an operator made through the admin surface. */
export interface AdminActionTable {
  id: Generated<number>
  at: Generated<Date>
  operator: string
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  status: number
  detail: NullableJsonb<Record<string, unknown>>
}
