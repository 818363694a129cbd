import type { BBox } from './bbox.js'
import { BBoxBuilder, bboxContains } from './bbox.js'
import type { LatLon } from './lat-lon.js'

const MAX_BANDS = 4096

/**
 * Even-odd containment over all edges of a set of closed rings (outer and inner alike: holes and
 * islands in holes need no roles). Edges are straight in lon/lat, as in OSM and PostGIS geometry.
 * Edges are bucketed into latitude bands so that a test against a 50 000-vertex city boundary
 * touches only the few hundred edges its latitude crosses. A point exactly on an edge may fall
 * either way.
 */
export class PolygonIndex {
  readonly bbox: BBox | null
  /** lat1, lon1, lat2, lon2 per edge; horizontal edges are dropped, they never change the parity. */
  private readonly edges: Float64Array
  private readonly bandStart: Int32Array
  private readonly bandEdges: Int32Array
  private readonly bandHeight: number

  constructor(rings: readonly (readonly LatLon[])[]) {
    const coords: number[] = []
    const box = new BBoxBuilder()
    for (const ring of rings) {
      for (let i = 0; i < ring.length; i++) {
        const a = ring[i]!
        const b = ring[(i + 1) % ring.length]!
        box.add(a.lat, a.lon)
        if (a.lat !== b.lat) coords.push(a.lat, a.lon, b.lat, b.lon)
      }
    }
    this.bbox = box.toBBox()
    this.edges = Float64Array.from(coords)
    const edgeCount = coords.length / 4
    const bands = Math.max(1, Math.min(MAX_BANDS, Math.ceil(Math.sqrt(edgeCount))))
    const minLat = this.bbox?.minLat ?? 0
    this.bandHeight = ((this.bbox?.maxLat ?? 0) - minLat) / bands || 1

    const bandOf = (lat: number) => Math.min(bands - 1, Math.floor((lat - minLat) / this.bandHeight))
    const edgeBands = (edge: number): [number, number] => {
      const lat1 = this.edges[edge * 4]!
      const lat2 = this.edges[edge * 4 + 2]!
      return [bandOf(Math.min(lat1, lat2)), bandOf(Math.max(lat1, lat2))]
    }
    this.bandStart = new Int32Array(bands + 1)
    for (let edge = 0; edge < edgeCount; edge++) {
      const [from, to] = edgeBands(edge)
      for (let band = from; band <= to; band++) this.bandStart[band + 1]!++
    }
    for (let band = 0; band < bands; band++) this.bandStart[band + 1]! += this.bandStart[band]!
    this.bandEdges = new Int32Array(this.bandStart[bands]!)
    const fill = this.bandStart.slice(0, bands)
    for (let edge = 0; edge < edgeCount; edge++) {
      const [from, to] = edgeBands(edge)
      for (let band = from; band <= to; band++) this.bandEdges[fill[band]!++] = edge
    }
  }

  contains(lat: number, lon: number): boolean {
    if (!this.bbox || !bboxContains(this.bbox, lat, lon)) return false
    const band = Math.min(this.bandStart.length - 2, Math.floor((lat - this.bbox.minLat) / this.bandHeight))
    const e = this.edges
    let inside = false
    for (let k = this.bandStart[band]!; k < this.bandStart[band + 1]!; k++) {
      const i = this.bandEdges[k]! * 4
      const lat1 = e[i]!
      const lat2 = e[i + 2]!
      // Half-open on latitude so a ray through a vertex counts the two edges meeting there once.
      if (lat1 > lat !== lat2 > lat) {
        const lon1 = e[i + 1]!
        const crossLon = lon1 + ((lat - lat1) * (e[i + 3]! - lon1)) / (lat2 - lat1)
        if (lon < crossLon) inside = !inside
      }
    }
    return inside
  }
}
