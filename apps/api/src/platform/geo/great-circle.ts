import type { LatLon } from './lat-lon.js'

/**
 * Mean Earth radius (IUGG R1). Ranking does not depend on it; displayed metres differ from
 * earthdistance's `earth()` (6 378 168 m) by 0.1 %, so never mix the two in one comparison.
 */
export const EARTH_RADIUS_M = 6_371_008.8

const RAD = Math.PI / 180

/**
 * Great-circle distance in metres. Haversine rather than the spherical law of cosines: the latter
 * loses metres to rounding at the few-metre distances "Nearby" re-ranks by.
 */
export function greatCircleMeters(a: LatLon, b: LatLon): number {
  const dLat = (b.lat - a.lat) * RAD
  const dLon = (b.lon - a.lon) * RAD
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2
  // min(): rounding can push h a hair above 1 for antipodes, and asin(>1) is NaN.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, h)))
}
