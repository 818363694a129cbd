import type { LatLon } from './lat-lon.js'
import { roundToOsmPrecision } from './lat-lon.js'

export interface BBox {
  minLat: number
  minLon: number
  maxLat: number
  maxLon: number
}

/** Grows a bounding box point by point without allocating; `isEmpty` until the first point. */
export class BBoxBuilder {
  minLat = Number.POSITIVE_INFINITY
  minLon = Number.POSITIVE_INFINITY
  maxLat = Number.NEGATIVE_INFINITY
  maxLon = Number.NEGATIVE_INFINITY

  get isEmpty(): boolean {
    return this.minLat > this.maxLat
  }

  add(lat: number, lon: number): void {
    if (lat < this.minLat) this.minLat = lat
    if (lat > this.maxLat) this.maxLat = lat
    if (lon < this.minLon) this.minLon = lon
    if (lon > this.maxLon) this.maxLon = lon
  }

  toBBox(): BBox | null {
    return this.isEmpty
      ? null
      : { minLat: this.minLat, minLon: this.minLon, maxLat: this.maxLat, maxLon: this.maxLon }
  }
}

/**
 * Centre of the box, at OSM precision: what Overpass returns as `center` for a way or relation.
 * Ways crossing the antimeridian get a wrong centre; no city we serve spans it.
 */
export function bboxCentre(box: BBox): LatLon {
  return {
    lat: roundToOsmPrecision((box.minLat + box.maxLat) / 2),
    lon: roundToOsmPrecision((box.minLon + box.maxLon) / 2),
  }
}

export function bboxContains(box: BBox, lat: number, lon: number): boolean {
  return lat >= box.minLat && lat <= box.maxLat && lon >= box.minLon && lon <= box.maxLon
}
