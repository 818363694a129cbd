import type { OsmFeature, OsmReadOptions, OsmType } from './types.js'

/**
 * What a file format must provide for the multi-pass reader. Memory stays bounded because no pass
 * keeps anything for objects that were not asked for: pass 1 streams kept nodes out and remembers
 * only kept ways/relations, pass 2 fetches node refs of the relations' member ways, pass 3 fetches
 * coordinates of just the nodes those need.
 */
export interface OsmPassDriver {
  /** Pass 1 over everything. Yields after each chunk so the caller can hand kept nodes on. */
  primary(opts: OsmReadOptions, counts: ObjectCounts, sink: PrimarySink): AsyncIterable<void>
  wayRefs(needed: ReadonlySet<number>, found: (id: number, refs: number[]) => void): Promise<void>
  nodeCoords(
    needed: ReadonlySet<number>,
    found: (id: number, lon: number, lat: number) => void,
  ): Promise<void>
}

export interface ObjectCounts {
  nodes: number
  ways: number
  relations: number
}

export interface OsmMember {
  type: OsmType
  ref: number
  role: string
}

interface RawObject {
  id: number
  version: number | null
  timestamp: string | null
  tags: Record<string, string>
}

export interface RawWay extends RawObject {
  refs: number[]
}

export interface RawRelation extends RawObject {
  /** False for the boundary relation when it is only wanted for its shape. */
  keep: boolean
  members: OsmMember[]
}

export interface PrimarySink {
  node(feature: OsmFeature): void
  way(way: RawWay): void
  relation(relation: RawRelation): void
}

/** `keys` prefilter shared by the formats: true when the object might pass `keep`. */
export function hasInterestingKey(keys: ReadonlySet<string> | null, tags: Record<string, string>): boolean {
  if (keys === null) return true
  for (const k in tags) if (keys.has(k)) return true
  return false
}

/** PBF stores seconds × date_granularity; XML writers print whole seconds without a fraction. */
export function isoFromMillis(ms: number): string {
  const iso = new Date(ms).toISOString()
  return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso
}
