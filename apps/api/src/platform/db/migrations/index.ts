import type { Migration } from 'kysely'
import * as m0001 from './0001_foundation.js'
import * as m0002 from './0002_seed_reference.js'
import * as m0003 from './0003_pr2_ingestion.js'
import * as m0004 from './0004_publishing.js'
import * as m0005 from './0005_run_seen_keys.js'
import * as m0006 from './0006_single_pass_staging.js'
import * as m0007 from './0007_narrow_geo_indexes.js'
import * as m0008 from './0008_derived_change_state.js'
import * as m0009 from './0009_staging_run_references.js'
import * as m0012 from './0012_map_tiles.js'
import * as m0013 from './0013_store_ledger.js'
import * as m0014 from './0014_accounts.js'
import * as m0015 from './0015_catalog_tours.js'
import * as m0016 from './0016_entitlements.js'
import * as m0017 from './0017_content_import_job.js'
import * as m0018 from './0018_purchases.js'
import * as m0019 from './0019_basemap.js'
import * as m0020 from './0020_city_packs.js'
import * as m0022 from './0022_admin_actions.js'

/**
 * Every migration, in order. Static imports (not a folder scan) so the same list works under tsx, in
 * tests and in a bundled serverless function. Append-only: never edit a migration that has landed.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_seed_reference': m0002,
  '0003_pr2_ingestion': m0003,
  '0004_publishing': m0004,
  '0005_run_seen_keys': m0005,
  '0006_single_pass_staging': m0006,
  '0007_narrow_geo_indexes': m0007,
  '0008_derived_change_state': m0008,
  '0009_staging_run_references': m0009,
  '0012_map_tiles': m0012,
  '0013_store_ledger': m0013,
  '0014_accounts': m0014,
  '0015_catalog_tours': m0015,
  '0016_entitlements': m0016,
  '0017_content_import_job': m0017,
  '0018_purchases': m0018,
  '0019_basemap': m0019,
  '0020_city_packs': m0020,
  '0022_admin_actions': m0022,
}
