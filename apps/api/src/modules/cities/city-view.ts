import { roundCoordinate } from '../../platform/geo/lat-lon.js'
import type { CityRow } from './cities.queries.js'

/** The public shape of a city; one function so every endpoint shows a city the same way. */
export function cityView(c: CityRow) {
  return {
    slug: c.slug,
    name_ru: c.name_ru,
    osm_relation_id: c.osm_relation_id,
    bbox: [c.bbox_min_lon, c.bbox_min_lat, c.bbox_max_lon, c.bbox_max_lat].map(roundCoordinate) as [
      number,
      number,
      number,
      number,
    ],
    center: { lat: roundCoordinate(c.center_lat), lon: roundCoordinate(c.center_lon) },
    timezone: c.timezone,
  }
}
