import { type PostalAddress, pickAddress } from './address.js'
import { classifyHelper, classifyPoi, type HelperKind, type PoiCategory } from './categories.js'
import { pickOpeningHours, pickOperator, pickPhone, pickWebsite } from './contacts.js'
import { contentHash } from './content-hash.js'
import { cleanText, collectNames, type NameSource, pickRussianName } from './names.js'
import type { OsmTags } from './tag-selector.js'
import { pickWikipedia, type WikipediaLink } from './wikipedia.js'

export type OsmType = 'node' | 'way' | 'relation'

/** One OSM object as the readers hand it over; ways and relations come with their centre. */
export interface OsmFeature {
  type: OsmType
  id: number
  version: number | null
  timestamp: string | null
  tags: OsmTags
  lat: number
  lon: number
}

export interface HeritageInfo {
  heritage: string | null
  operator: string | null
  /** Number in the Russian register of cultural heritage objects (ЕГРОКН). */
  ref_okn: string | null
}

/** Source and licence: every record can be traced to its OSM object and carries ODbL terms. */
interface SourceFields {
  osm_type: OsmType
  osm_id: number
  osm_version: number | null
  osm_timestamp: string | null
  source_url: string
  license: 'ODbL-1.0'
  attribution: '© OpenStreetMap contributors'
  /** sha256 hex over every other field: unchanged data ⇔ unchanged hash. */
  content_hash: string
}

export interface NormalizedPoi extends SourceFields {
  category: PoiCategory
  name_ru: string | null
  name_source: NameSource | null
  names: Record<string, string>
  tags: Record<string, string>
  lat: number
  lon: number
  wikidata: string | null
  wikipedia: WikipediaLink | null
  website: string | null
  opening_hours: string | null
  phone: string | null
  address: PostalAddress | null
  heritage: HeritageInfo | null
}

export interface NormalizedHelper extends SourceFields {
  kind: HelperKind
  /** Display name: the Russian name, else `name` in any script (a brand on a sign), else null. */
  name: string | null
  name_source: NameSource | null
  names: Record<string, string>
  /** Brand or operator: which bank's ATM, which pharmacy chain. */
  operator: string | null
  tags: Record<string, string>
  lat: number
  lon: number
  website: string | null
  opening_hours: string | null
  phone: string | null
  address: PostalAddress | null
}

export const OSM_LICENSE = 'ODbL-1.0' as const
export const OSM_ATTRIBUTION = '© OpenStreetMap contributors' as const

/** OSM stores coordinates with 7 decimals; rounding there makes float noise invisible to the hash. */
function round7(value: number): number {
  return Math.round(value * 1e7) / 1e7
}

function validPosition(feature: OsmFeature): boolean {
  const { lat, lon } = feature
  return Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180
}

function sortedTags(tags: OsmTags): Record<string, string> {
  const copy: Record<string, string> = {}
  for (const key of Object.keys(tags).sort()) copy[key] = tags[key]!
  return copy
}

function pickWikidata(tags: OsmTags): string | null {
  const value = cleanText(tags.wikidata)
  return value !== null && /^Q[1-9]\d*$/.test(value) ? value : null
}

function pickHeritage(tags: OsmTags): HeritageInfo | null {
  const heritage = cleanText(tags.heritage)
  const operator = cleanText(tags['heritage:operator'])
  const ref_okn = cleanText(tags['ref:okn'])
  if (heritage === null && operator === null && ref_okn === null) return null
  return { heritage, operator, ref_okn }
}

function source(feature: OsmFeature) {
  return {
    osm_type: feature.type,
    osm_id: feature.id,
    osm_version: feature.version,
    osm_timestamp: feature.timestamp,
    source_url: `https://www.openstreetmap.org/${feature.type}/${feature.id}`,
    license: OSM_LICENSE,
    attribution: OSM_ATTRIBUTION,
  }
}

function withHash<T extends object>(record: T): T & { content_hash: string } {
  return { ...record, content_hash: contentHash(record) }
}

/**
 * A POI record for staging, or null when the tags are not a POI or the position is unusable.
 * POIs without a Russian name are kept (name_ru null): the publish gate decides, not ingestion.
 */
export function normalizePoi(feature: OsmFeature): NormalizedPoi | null {
  const category = classifyPoi(feature.tags)
  if (category === null || !validPosition(feature)) return null
  const { tags } = feature
  return withHash({
    ...source(feature),
    category,
    ...pickRussianName(tags),
    names: collectNames(tags),
    tags: sortedTags(tags),
    lat: round7(feature.lat),
    lon: round7(feature.lon),
    wikidata: pickWikidata(tags),
    wikipedia: pickWikipedia(tags),
    website: pickWebsite(tags),
    opening_hours: pickOpeningHours(tags),
    phone: pickPhone(tags),
    address: pickAddress(tags),
    heritage: pickHeritage(tags),
  })
}

/** A helper-place record, or null when the tags are not a helper or the position is unusable. */
export function normalizeHelper(feature: OsmFeature): NormalizedHelper | null {
  const kind = classifyHelper(feature.tags)
  if (kind === null || !validPosition(feature)) return null
  const { tags } = feature
  const russian = pickRussianName(tags)
  const plain = cleanText(tags.name)
  const name =
    russian.name_ru !== null
      ? { name: russian.name_ru, name_source: russian.name_source }
      : { name: plain, name_source: plain === null ? null : ('name' as const) }
  return withHash({
    ...source(feature),
    kind,
    ...name,
    names: collectNames(tags),
    operator: pickOperator(tags),
    tags: sortedTags(tags),
    lat: round7(feature.lat),
    lon: round7(feature.lon),
    website: pickWebsite(tags),
    opening_hours: pickOpeningHours(tags),
    phone: pickPhone(tags),
    address: pickAddress(tags),
  })
}
