import type { LatLon } from '../../../platform/geo/lat-lon.js'

export type OsmType = 'node' | 'way' | 'relation'

/**
 * Tags as a prototype-less record: OSM keys are free text, and a key such as `__proto__` or
 * `constructor` must stay plain data instead of reaching Object.prototype.
 */
export type OsmTags = Readonly<Record<string, string>>

export interface OsmNode {
  type: 'node'
  id: number
  lat: number
  lon: number
  tags: OsmTags
}

export interface OsmWay {
  type: 'way'
  id: number
  nodeRefs: number[]
  tags: OsmTags
}

export interface OsmMember {
  type: OsmType
  ref: number
  role: string
}

export interface OsmRelation {
  type: 'relation'
  id: number
  members: OsmMember[]
  tags: OsmTags
}

export type OsmElement = OsmNode | OsmWay | OsmRelation

/** An element reduced to what ingestion stores: identity, tags and one representative point. */
export interface LocatedOsmElement {
  type: OsmType
  id: number
  tags: OsmTags
  /** `null` when no member of a way or relation could be resolved to a coordinate. */
  location: LatLon | null
}

/** What a file or response says about itself before its elements. */
export interface OsmHeader {
  generator?: string
  /** The extent the producer claims to cover (XML `<bounds>`, PBF `HeaderBBox`). */
  bounds?: { minLat: number; minLon: number; maxLat: number; maxLon: number }
  /** How fresh the data is (PBF replication timestamp, Overpass `timestamp_osm_base`), ISO 8601. */
  dataTimestamp?: string
}

export interface OsmReadOptions {
  /** Element types to decode; the others are skipped as cheaply as the format allows. */
  types?: readonly OsmType[]
  /** Called once, before the first batch, with whatever header the source carries. */
  onHeader?: (header: OsmHeader) => void
}

/** Shared by every untagged element (the vast majority of nodes): frozen, so no one can fill it. */
export const EMPTY_TAGS: OsmTags = Object.freeze(Object.create(null))

export function newTags(): Record<string, string> {
  return Object.create(null)
}

export function wantsType(options: OsmReadOptions | undefined, type: OsmType): boolean {
  return options?.types === undefined || options.types.includes(type)
}
