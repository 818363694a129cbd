export type OsmType = 'node' | 'way' | 'relation'

/** How a feature's lat/lon was obtained; callers may trust a node position more than a bbox centre. */
export type OsmPosition = 'node' | 'center' | 'centroid' | 'bbox_center'

/** One OSM object that passed the caller's tag predicate, reduced to a single point. */
export interface OsmFeature {
  type: OsmType
  id: number
  version: number | null
  /** ISO 8601, as written by the source (e.g. `2018-09-18T08:41:16Z`). */
  timestamp: string | null
  tags: Record<string, string>
  lat: number
  lon: number
  position: OsmPosition
}

/** [lon, lat] */
export type LonLat = [number, number]

/** A closed ring: first and last points are equal. */
export type Ring = LonLat[]

/** One polygon: an outer ring followed by its holes. */
export interface Polygon {
  outer: Ring
  holes: Ring[]
}

/** A multipolygon, e.g. a city boundary assembled from an OSM relation. */
export type Boundary = Polygon[]

export interface BBox {
  minLon: number
  minLat: number
  maxLon: number
  maxLat: number
}

export type OsmFileFormat = 'pbf' | 'xml' | 'xml-gz' | 'overpass-json'

export interface OsmReadOptions {
  /** Only objects whose tags pass are yielded. Called once per tagged object that survives `keys`. */
  keep: (tags: Record<string, string>) => boolean
  /**
   * Optional fast path: objects having none of these keys are never handed to `keep` (their tags are
   * not even decoded). Leave unset when `keep` may accept an object by a key not listed here.
   */
  keys?: readonly string[]
  /** A relation whose outer/inner member ways are assembled into `boundary()`, whatever `keep` says. */
  boundaryRelationId?: number
}

export interface OsmReadStats {
  nodes: number
  ways: number
  relations: number
  /** Features yielded. */
  kept: number
  /** Objects that passed `keep` but had no resolvable coordinate at all, so were not yielded. */
  unresolved: number
}

/**
 * The result of reading one OSM file: iterate it once for the features; after the iteration has
 * finished, `stats()` holds the final counts and `boundary()` the assembled boundary relation
 * (null when none was asked for, it is missing from the file, or its rings do not close).
 */
export interface OsmReadResult extends AsyncIterable<OsmFeature> {
  stats(): OsmReadStats
  boundary(): Boundary | null
}
