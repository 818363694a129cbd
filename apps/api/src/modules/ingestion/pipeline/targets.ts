import type { OsmFeature } from '../normalize.js'
import { normalizeHelper, normalizePoi } from '../normalize.js'

export type Target = 'poi' | 'helpers'

export interface TargetSpec {
  target: Target
  table: 'poi_ingestion_staging' | 'helper_place'
  /** The run type that stages into `table`. */
  runType: 'osm' | 'helpers'
  /** Staged columns filled from the normalised record, by the record's own field names. */
  columns: readonly string[]
  normalize(feature: OsmFeature): { osm_type: string; osm_id: number; content_hash: string } | null
}

const SHARED = [
  'names',
  'tags',
  'lat',
  'lon',
  'website',
  'opening_hours',
  'phone',
  'address',
  'source_url',
  'osm_version',
  'osm_timestamp',
  'license',
  'attribution',
  'content_hash',
] as const

export const TARGETS: Record<Target, TargetSpec> = {
  poi: {
    target: 'poi',
    table: 'poi_ingestion_staging',
    runType: 'osm',
    columns: ['category', 'name_ru', 'name_source', 'wikidata', 'wikipedia', 'heritage', ...SHARED],
    normalize: normalizePoi,
  },
  helpers: {
    target: 'helpers',
    table: 'helper_place',
    runType: 'helpers',
    columns: ['kind', 'name', 'name_source', 'operator', ...SHARED],
    normalize: normalizeHelper,
  },
}
