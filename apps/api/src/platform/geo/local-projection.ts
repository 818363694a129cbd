import { EARTH_RADIUS_M } from './great-circle.js'
import type { LatLonBox } from './lat-lon.js'

const RAD = Math.PI / 180
const DEG_PER_METRE = 1 / (EARTH_RADIUS_M * RAD)
/** Covers rounding in the projected coordinates (~ulp(180°)) so the bounds hold for centimetre pairs. */
const ABSOLUTE_SLACK_DEG = 1e-11
const RELATIVE_SLACK = 1e-9

export interface LocalProjection {
  /** The fixed reference latitude; one per city, never per query, so the plane has no shear. */
  readonly refLat: number
  /** `cos(refLat)`: SQL must project with this very number, `point(lon * xScale, lat)`. */
  readonly xScale: number
  project(lat: number, lon: number): { x: number; y: number }
  /**
   * Planar radius (projected degrees) that contains every point within `meters` great-circle distance
   * of the query: search the plane with it, then re-rank by great-circle distance, and nothing is missed.
   */
  planarRadiusFor(meters: number): number
  /**
   * The least great-circle distance (metres) a point at planar distance `planar` can be at. A KNN scan in
   * planar order may stop once this exceeds the k-th best exact distance found so far.
   */
  minMetersFor(planar: number): number
}

/**
 * Equirectangular plane for one region: x = lon·cos(refLat), y = lat, in degrees, as the KNN
 * `point` index stores it. Both bounds come from one inequality: along any geodesic whose latitude
 * stays within |φ| ≤ φ*, the angle θ ≥ √(Δφ² + cos²φ*·Δλ²). A geodesic of length θ never strays
 * more than θ/2 in latitude from its nearer end, so φ* ≤ max|lat| + θ/2:
 * - a radius search only meets geodesics of θ ≤ r/R;
 * - for a planar distance d (radians), either θ ≥ d, or θ < d and then θ ≥ cos φ*(d)/cos φ₀ · d.
 * The bounds hold only for pairs inside `region`: make it cover the queries as well as the data.
 */
export function createLocalProjection(
  region: LatLonBox,
  refLat = (region.minLat + region.maxLat) / 2,
): LocalProjection {
  const xScale = Math.cos(refLat * RAD)
  const maxAbsLat = Math.max(Math.abs(region.minLat), Math.abs(region.maxLat)) * RAD
  // No geodesic between two points of the region is longer than going along a meridian, then a parallel.
  const thetaMax = (region.maxLat - region.minLat + (region.maxLon - region.minLon)) * RAD
  const cosStar = (theta: number) =>
    Math.cos(Math.min(Math.PI / 2, maxAbsLat + Math.min(theta, thetaMax) / 2))

  return {
    refLat,
    xScale,
    project: (lat, lon) => ({ x: lon * xScale, y: lat }),
    planarRadiusFor: (meters) => {
      const stretch = Math.max(1, xScale / cosStar(meters / EARTH_RADIUS_M))
      return meters * DEG_PER_METRE * stretch * (1 + RELATIVE_SLACK) + ABSOLUTE_SLACK_DEG
    },
    minMetersFor: (planar) => {
      const shrink = Math.min(1, cosStar(planar * RAD) / xScale)
      return Math.max(0, ((planar - ABSOLUTE_SLACK_DEG) * shrink * (1 - RELATIVE_SLACK)) / DEG_PER_METRE)
    },
  }
}
