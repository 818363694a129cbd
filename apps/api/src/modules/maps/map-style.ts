import { OSM_ATTRIBUTION } from '../places/index.js'
import type { TileBuildRow } from './maps.queries.js'

export const TILES_ATTRIBUTION = `<a href="https://www.openstreetmap.org/copyright">${OSM_ATTRIBUTION}</a>`

/** The data version a tile URL names: the build's data hash, shortened (a URL, not a proof). */
export function tileVersion(build: TileBuildRow): string {
  return build.data_hash.slice(0, 16)
}

/** TileJSON 3.0.0 of a city's POI and helper tiles, with a versioned (immutable) tile URL. */
export function tileJson(
  origin: string,
  city: { slug: string; name_ru: string; center: number[] },
  build: TileBuildRow,
) {
  return {
    tilejson: '3.0.0',
    name: `${city.name_ru}: достопримечательности и полезные места`,
    scheme: 'xyz',
    version: '1.0.0',
    tiles: [`${origin}/v1/cities/${city.slug}/tiles/{z}/{x}/{y}.mvt?v=${tileVersion(build)}`],
    minzoom: build.min_zoom,
    maxzoom: build.max_zoom,
    bounds: build.bounds,
    center: [city.center[0]!, city.center[1]!, 12],
    attribution: TILES_ATTRIBUTION,
    vector_layers: [
      {
        id: 'pois',
        description: 'Опубликованные достопримечательности; на мелких масштабах — кластеры',
        minzoom: build.min_zoom,
        maxzoom: build.max_zoom,
        fields: {
          id: 'Number',
          name: 'String',
          category: 'String',
          cluster: 'Boolean',
          point_count: 'Number',
        },
      },
      {
        id: 'helpers',
        description: 'Полезные места (туалеты, вода, аптеки и др.); на мелких масштабах — кластеры',
        minzoom: build.min_zoom,
        maxzoom: build.max_zoom,
        fields: { id: 'Number', name: 'String', kind: 'String', cluster: 'Boolean', point_count: 'Number' },
      },
    ],
  }
}

const LABEL_FONT = ['Noto Sans Regular']

const BASEMAP = 'basemap'
const basemapLayer = (id: string, type: string, sourceLayer: string, rest: Record<string, unknown>) => ({
  id: `basemap-${id}`,
  type,
  source: BASEMAP,
  'source-layer': sourceLayer,
  ...rest,
})

/** The city basemap's layers (OpenMapTiles schema, labels from the Russian `name`), bottom to top. */
function basemapLayers() {
  return [
    basemapLayer('landuse', 'fill', 'landuse', { paint: { 'fill-color': '#e8e2d6' } }),
    basemapLayer('landcover', 'fill', 'landcover', {
      paint: { 'fill-color': '#d8e8c8', 'fill-opacity': 0.7 },
    }),
    basemapLayer('park', 'fill', 'park', { paint: { 'fill-color': '#cfe6b8', 'fill-opacity': 0.7 } }),
    basemapLayer('water', 'fill', 'water', { paint: { 'fill-color': '#a8cbe8' } }),
    basemapLayer('waterway', 'line', 'waterway', { paint: { 'line-color': '#a8cbe8', 'line-width': 1.5 } }),
    basemapLayer('building', 'fill', 'building', { minzoom: 13, paint: { 'fill-color': '#d9d0c7' } }),
    basemapLayer('transportation', 'line', 'transportation', {
      paint: {
        'line-color': '#ffffff',
        'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.5, 16, 6],
      },
    }),
    basemapLayer('transportation-name', 'symbol', 'transportation_name', {
      minzoom: 14,
      layout: {
        'symbol-placement': 'line',
        'text-field': ['get', 'name'],
        'text-font': LABEL_FONT,
        'text-size': 11,
      },
      paint: { 'text-color': '#555', 'text-halo-color': '#fff', 'text-halo-width': 1 },
    }),
    basemapLayer('place', 'symbol', 'place', {
      layout: { 'text-field': ['get', 'name'], 'text-font': LABEL_FONT, 'text-size': 13 },
      paint: { 'text-color': '#333', 'text-halo-color': '#fff', 'text-halo-width': 1.2 },
    }),
  ]
}

/**
 * A MapLibre style: background and, once the city has one, its offline basemap (a `pmtiles://`
 * vector source) below; helpers, POI clusters and POIs above; labels from the Russian `name`. No
 * `glyphs`: MapLibre GL JS then draws labels with local fonts.
 */
export function mapStyle(
  origin: string,
  city: { slug: string; name_ru: string; center: number[] },
  hasBasemap = false,
) {
  const source = 'gorod'
  const isCluster = ['==', ['get', 'cluster'], true]
  const isPoint = ['!', ['has', 'point_count']]
  return {
    version: 8,
    name: city.name_ru,
    center: city.center,
    zoom: 12,
    sources: {
      ...(hasBasemap
        ? {
            [BASEMAP]: {
              type: 'vector',
              url: `pmtiles://${origin}/v1/cities/${city.slug}/basemap.pmtiles`,
              attribution: TILES_ATTRIBUTION,
            },
          }
        : {}),
      [source]: { type: 'vector', url: `${origin}/v1/cities/${city.slug}/tiles.json` },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } },
      ...(hasBasemap ? basemapLayers() : []),
      {
        id: 'helpers',
        type: 'circle',
        source,
        'source-layer': 'helpers',
        filter: isPoint,
        paint: {
          'circle-radius': 4,
          'circle-color': '#2b7bb9',
          'circle-stroke-width': 1,
          'circle-stroke-color': '#fff',
        },
      },
      {
        id: 'poi-clusters',
        type: 'circle',
        source,
        'source-layer': 'pois',
        filter: isCluster,
        paint: {
          'circle-color': '#c0392b',
          'circle-opacity': 0.85,
          'circle-radius': ['step', ['get', 'point_count'], 12, 10, 16, 100, 22],
        },
      },
      {
        id: 'poi-cluster-count',
        type: 'symbol',
        source,
        'source-layer': 'pois',
        filter: isCluster,
        layout: {
          'text-field': ['to-string', ['get', 'point_count']],
          'text-font': LABEL_FONT,
          'text-size': 12,
        },
        paint: { 'text-color': '#fff' },
      },
      {
        id: 'pois',
        type: 'circle',
        source,
        'source-layer': 'pois',
        filter: isPoint,
        paint: {
          'circle-radius': 6,
          'circle-color': '#c0392b',
          'circle-stroke-width': 1.5,
          'circle-stroke-color': '#fff',
        },
      },
      {
        id: 'poi-labels',
        type: 'symbol',
        source,
        'source-layer': 'pois',
        filter: isPoint,
        minzoom: 13,
        layout: {
          'text-field': ['get', 'name'],
          'text-font': LABEL_FONT,
          'text-size': 12,
          'text-offset': [0, 1.2],
          'text-anchor': 'top',
        },
        paint: { 'text-color': '#333', 'text-halo-color': '#fff', 'text-halo-width': 1.2 },
      },
    ],
  }
}
