import type { BBox, Boundary, LonLat, Polygon, Ring } from './types.js'

/** Planar geometry on lon/lat degrees: good enough for city-sized shapes, which is all we assemble. */

const pointKey = (p: LonLat): string => `${p[0]},${p[1]}`

const samePoint = (a: LonLat, b: LonLat): boolean => a[0] === b[0] && a[1] === b[1]

/**
 * Joins way segments end to end into closed rings. Segments meet where an endpoint has exactly the
 * same coordinate (OSM ways share nodes, so shared endpoints are bit-identical). Segments that cannot
 * be closed are dropped and counted in `open`.
 */
export function assembleRings(segments: readonly LonLat[][]): { rings: Ring[]; open: number } {
  const rings: Ring[] = []
  const used = new Uint8Array(segments.length)
  const byEndpoint = new Map<string, number[]>()
  segments.forEach((seg, i) => {
    if (seg.length < 2) {
      used[i] = 1
      return
    }
    for (const p of [seg[0]!, seg[seg.length - 1]!]) {
      const key = pointKey(p)
      const list = byEndpoint.get(key)
      if (list) list.push(i)
      else byEndpoint.set(key, [i])
    }
  })
  let open = 0
  for (let i = 0; i < segments.length; i++) {
    if (used[i]) continue
    used[i] = 1
    const ring: LonLat[] = [...segments[i]!]
    while (!samePoint(ring[0]!, ring[ring.length - 1]!)) {
      const tail = ring[ring.length - 1]!
      const next = (byEndpoint.get(pointKey(tail)) ?? []).find((j) => !used[j])
      if (next === undefined) break
      used[next] = 1
      const seg = segments[next]!
      const oriented = samePoint(seg[0]!, tail) ? seg : [...seg].reverse()
      for (let k = 1; k < oriented.length; k++) ring.push(oriented[k]!)
    }
    if (ring.length >= 4 && samePoint(ring[0]!, ring[ring.length - 1]!)) rings.push(ring)
    else open++
  }
  return { rings, open }
}

/**
 * Signed area (shoelace) and centroid of a ring. Coordinates are taken relative to the first vertex so
 * that small buildings far from (0,0) keep their precision.
 */
export function ringAreaCentroid(ring: Ring): { area: number; lon: number; lat: number } {
  const [x0, y0] = ring[0]!
  let a2 = 0
  let cx = 0
  let cy = 0
  for (let i = 0; i + 1 < ring.length; i++) {
    const xi = ring[i]![0] - x0
    const yi = ring[i]![1] - y0
    const xj = ring[i + 1]![0] - x0
    const yj = ring[i + 1]![1] - y0
    const cross = xi * yj - xj * yi
    a2 += cross
    cx += (xi + xj) * cross
    cy += (yi + yj) * cross
  }
  if (a2 === 0) return { area: 0, lon: x0, lat: y0 }
  return { area: a2 / 2, lon: x0 + cx / (3 * a2), lat: y0 + cy / (3 * a2) }
}

/**
 * Area-weighted centroid of several rings taken as separate areas (orientation ignored). Null when the
 * total area is zero (degenerate rings), so callers fall back to a bbox centre.
 */
export function ringsCentroid(rings: readonly Ring[]): LonLat | null {
  let total = 0
  let lon = 0
  let lat = 0
  for (const ring of rings) {
    if (ring.length < 4) continue
    const c = ringAreaCentroid(ring)
    const w = Math.abs(c.area)
    total += w
    lon += c.lon * w
    lat += c.lat * w
  }
  if (!(total > 0)) return null
  return [lon / total, lat / total]
}

export function emptyBBox(): BBox {
  return { minLon: Infinity, minLat: Infinity, maxLon: -Infinity, maxLat: -Infinity }
}

export function extendBBox(bbox: BBox, lon: number, lat: number): void {
  if (lon < bbox.minLon) bbox.minLon = lon
  if (lon > bbox.maxLon) bbox.maxLon = lon
  if (lat < bbox.minLat) bbox.minLat = lat
  if (lat > bbox.maxLat) bbox.maxLat = lat
}

export function isEmptyBBox(bbox: BBox): boolean {
  return bbox.minLon > bbox.maxLon || bbox.minLat > bbox.maxLat
}

export function bboxOf(points: Iterable<LonLat>): BBox {
  const bbox = emptyBBox()
  for (const [lon, lat] of points) extendBBox(bbox, lon, lat)
  return bbox
}

export function bboxCenter(bbox: BBox): LonLat {
  return [(bbox.minLon + bbox.maxLon) / 2, (bbox.minLat + bbox.maxLat) / 2]
}

export function bboxContains(bbox: BBox, lon: number, lat: number): boolean {
  return lon >= bbox.minLon && lon <= bbox.maxLon && lat >= bbox.minLat && lat <= bbox.maxLat
}

/** Even-odd crossing test; a point exactly on an edge may land on either side. */
export function pointInRing(lon: number, lat: number, ring: Ring): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!
    const [xj, yj] = ring[j]!
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

export function pointInPolygon(lon: number, lat: number, polygon: Polygon): boolean {
  if (!pointInRing(lon, lat, polygon.outer)) return false
  return !polygon.holes.some((hole) => pointInRing(lon, lat, hole))
}

export function pointInBoundary(lon: number, lat: number, boundary: Boundary): boolean {
  return boundary.some((polygon) => pointInPolygon(lon, lat, polygon))
}

export function boundaryBBox(boundary: Boundary): BBox {
  return bboxOf(boundary.flatMap((p) => p.outer))
}

/**
 * Builds a multipolygon from outer and inner way segments: rings are assembled per role, and each
 * inner ring becomes a hole of the smallest outer ring containing its first vertex (inner rings no
 * outer ring contains are dropped: a hole of nothing is noise). Null when no outer ring closes.
 */
export function buildMultipolygon(
  outerSegments: readonly LonLat[][],
  innerSegments: readonly LonLat[][],
): Boundary | null {
  const outers = assembleRings(outerSegments).rings
  if (outers.length === 0) return null
  const polygons: Polygon[] = outers
    .map((outer) => ({ outer, holes: [] as Ring[], area: Math.abs(ringAreaCentroid(outer).area) }))
    .sort((a, b) => a.area - b.area)
  for (const hole of assembleRings(innerSegments).rings) {
    const [lon, lat] = hole[0]!
    const host = polygons.find((p) => pointInRing(lon, lat, p.outer))
    host?.holes.push(hole)
  }
  return polygons.map(({ outer, holes }) => ({ outer, holes }))
}
