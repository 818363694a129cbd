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
