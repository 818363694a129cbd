import { createRouter } from '../../platform/http/router.js'
import { getBasemap, getStyle, getTile, getTileJson } from './maps.handlers.js'
import { basemapRoute, styleRoute, tileJsonRoute, tileRoute } from './maps.routes.js'

export { blobInUse, findBasemap } from './basemap.queries.js'
export { basemapSource, createTilesHandler, enqueueTiles, extractKeeper } from './basemap-job.js'
export { thenBuildTiles } from './tile-job.js'
export { buildCityTiles, poiTilesArchive } from './tiles.service.js'

/** Map data for MapLibre: vector tiles of POIs and helpers, their TileJSON and a style (tenant routes). */
export function mapsRouter() {
  const router = createRouter()
  return router
    .openapi(tileJsonRoute, getTileJson)
    .openapi(styleRoute, getStyle)
    .openapi(tileRoute, getTile)
    .openapi(basemapRoute, getBasemap)
}
