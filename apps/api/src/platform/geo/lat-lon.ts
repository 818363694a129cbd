export interface LatLon {
  lat: number
  lon: number
}

/** An axis-aligned box in degrees; the region a city's points and queries lie in. */
export interface LatLonBox {
  minLat: number
  minLon: number
  maxLat: number
  maxLon: number
}

/** Decimals of a coordinate in every answer: 7 is ~1 cm, the precision OSM stores. */
export const COORDINATE_DECIMALS = 7

/**
 * A coordinate as every answer shows it: rounded to 7 decimals, so a value computed on the way
 * (a projection undone, a float column) never shows float noise like 38.130391100000004.
 */
export function roundCoordinate(value: number): number {
  return Math.round(value * 1e7) / 1e7
}
