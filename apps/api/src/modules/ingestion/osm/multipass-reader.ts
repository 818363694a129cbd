import {
  assembleRings,
  bboxCenter,
  buildMultipolygon,
  emptyBBox,
  extendBBox,
  isEmptyBBox,
  ringsCentroid,
} from './geometry.js'
import type { ObjectCounts, OsmPassDriver, RawRelation, RawWay } from './pass-driver.js'
import type { Boundary, LonLat, OsmFeature, OsmReadOptions, OsmReadResult, OsmReadStats } from './types.js'

/**
 * Turns a format driver into features: kept nodes stream out during pass 1; kept ways and relations
 * are positioned after passes 2–3 have fetched just the member ways and node coordinates they need.
 * Memory grows with what is kept, not with the file.
 */
export function readWithPasses(driver: OsmPassDriver, opts: OsmReadOptions): OsmReadResult {
  const counts: ObjectCounts = { nodes: 0, ways: 0, relations: 0 }
  let kept = 0
  let unresolved = 0
  let boundary: Boundary | null = null
  let started = false

  async function* run(): AsyncGenerator<OsmFeature> {
    const nodes: OsmFeature[] = []
    const ways: RawWay[] = []
    const relations: RawRelation[] = []
    let boundaryRelation: RawRelation | null = null
    const sink = {
      node: (f: OsmFeature) => nodes.push(f),
      way: (w: RawWay) => ways.push(w),
      relation: (r: RawRelation) => {
        if (r.id === opts.boundaryRelationId) boundaryRelation = r
        if (r.keep) relations.push(r)
      },
    }
    for await (const _ of driver.primary(opts, counts, sink)) {
      for (const f of nodes) {
        kept++
        yield f
      }
      nodes.length = 0
    }

    const wayRefs = new Map<number, number[]>()
    const memberWays = new Set<number>()
    for (const r of [...relations, ...(boundaryRelation ? [boundaryRelation as RawRelation] : [])]) {
      for (const m of r.members) if (m.type === 'way') memberWays.add(m.ref)
    }
    for (const w of ways) if (memberWays.has(w.id)) wayRefs.set(w.id, w.refs)
    for (const id of wayRefs.keys()) memberWays.delete(id)
    await driver.wayRefs(memberWays, (id, refs) => wayRefs.set(id, refs))

    const neededNodes = new Set<number>()
    for (const w of ways) for (const ref of w.refs) neededNodes.add(ref)
    for (const refs of wayRefs.values()) for (const ref of refs) neededNodes.add(ref)
    for (const r of relations) for (const m of r.members) if (m.type === 'node') neededNodes.add(m.ref)
    const coords = new Map<number, LonLat>()
    await driver.nodeCoords(neededNodes, (id, lon, lat) => coords.set(id, [lon, lat]))
    neededNodes.clear()

    const lineOf = (refs: readonly number[]): LonLat[] =>
      refs.map((r) => coords.get(r)).filter((c): c is LonLat => c !== undefined)

    for (const w of ways) {
      const f = positioned(w, 'way', wayPosition(w.refs, lineOf))
      if (f) yield f
    }
    for (const r of relations) {
      const f = positioned(r, 'relation', relationPosition(r, wayRefs, lineOf, coords))
      if (f) yield f
    }
    if (boundaryRelation) {
      const { outer, inner } = roleSegments(boundaryRelation, wayRefs, lineOf)
      boundary = buildMultipolygon(outer, inner)
    }
  }

  function positioned(
    raw: RawWay | RawRelation,
    type: 'way' | 'relation',
    pos: { at: LonLat; position: OsmFeature['position'] } | null,
  ): OsmFeature | null {
    if (!pos) {
      unresolved++
      return null
    }
    kept++
    const { id, version, timestamp, tags } = raw
    return { type, id, version, timestamp, tags, lon: pos.at[0], lat: pos.at[1], position: pos.position }
  }

  return {
    [Symbol.asyncIterator]() {
      // One pass set per result: a second iteration would silently re-count and re-read.
      if (started) throw new Error('an OSM read result can be iterated only once')
      started = true
      return run()
    },
    stats: (): OsmReadStats => ({ ...counts, kept, unresolved }),
    boundary: () => boundary,
  }
}

type Line = (refs: readonly number[]) => LonLat[]

function bboxPosition(points: Iterable<LonLat>): { at: LonLat; position: 'bbox_center' } | null {
  const bbox = emptyBBox()
  for (const [lon, lat] of points) extendBBox(bbox, lon, lat)
  return isEmptyBBox(bbox) ? null : { at: bboxCenter(bbox), position: 'bbox_center' }
}

function wayPosition(
  refs: readonly number[],
  lineOf: Line,
): { at: LonLat; position: OsmFeature['position'] } | null {
  const line = lineOf(refs)
  const closed = refs.length >= 4 && refs[0] === refs[refs.length - 1] && line.length === refs.length
  const centroid = closed ? ringsCentroid([line]) : null
  return centroid ? { at: centroid, position: 'centroid' } : bboxPosition(line)
}

function roleSegments(r: RawRelation, wayRefs: Map<number, number[]>, lineOf: Line) {
  const outer: LonLat[][] = []
  const inner: LonLat[][] = []
  // Multipolygon rules let an empty role mean outer; in a route or a site it means nothing of the kind.
  const areaRelation = r.tags.type === 'multipolygon' || r.tags.type === 'boundary'
  for (const m of r.members) {
    if (m.type !== 'way') continue
    const refs = wayRefs.get(m.ref)
    const line = refs ? lineOf(refs) : []
    // A way with missing nodes would join rings at the wrong place: leave it out.
    if (!refs || line.length !== refs.length) continue
    if (m.role === 'inner') inner.push(line)
    else if (m.role === 'outer' || (m.role === '' && areaRelation)) outer.push(line)
  }
  return { outer, inner }
}

/** Sub-relation members are not followed: nesting is rare for POIs and could loop. */
function relationPosition(
  r: RawRelation,
  wayRefs: Map<number, number[]>,
  lineOf: Line,
  coords: Map<number, LonLat>,
): { at: LonLat; position: OsmFeature['position'] } | null {
  const { outer } = roleSegments(r, wayRefs, lineOf)
  const centroid = ringsCentroid(assembleRings(outer).rings)
  if (centroid) return { at: centroid, position: 'centroid' }
  const points: LonLat[] = []
  for (const m of r.members) {
    if (m.type === 'node') {
      const c = coords.get(m.ref)
      if (c) points.push(c)
    } else if (m.type === 'way') points.push(...lineOf(wayRefs.get(m.ref) ?? []))
  }
  return bboxPosition(points)
}
