export interface LatLon {
  lat: number
  lon: number
}

export function isValidLatLon(lat: number, lon: number): boolean {
  return Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180
}

/**
 * Rounds to 7 decimals, the precision OSM stores (1e-7° ≈ 1 cm) and Overpass prints, so a centre
 * computed here compares equal to one read from an Overpass response.
 */
export function roundToOsmPrecision(degrees: number): number {
  return Math.round(degrees * 1e7) / 1e7
}
