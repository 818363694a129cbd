import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { fromGeojsonVt } from '@maplibre/vt-pbf'
import Supercluster from 'supercluster'

/** One point of a layer: a published POI (category) or a helper place (kind). */
export interface MapPoint {
  id: number
  /** Russian name; helpers may have none. */
  name: string | null
  /** `category` for POIs, `kind` for helpers. */
  tag: string
  lat: number
  lon: number
}

export interface BuiltTile {
  z: number
  x: number
  y: number
  /** The MVT, gzip-compressed once at build time: served as is, never re-encoded per request. */
  gzip: Buffer
  sha256: string
}

/** Tiles are pre-rendered from z0 to this zoom; clients overzoom beyond it. */
export const TILE_MAX_ZOOM = 14
/** Clusters form up to this zoom; at TILE_MAX_ZOOM every point is its own feature. */
const CLUSTER_MAX_ZOOM = TILE_MAX_ZOOM - 1
/** supercluster's tiles use extent 512; vt-pbf defaults to 4096 and would misplace every point. */
export const TILE_EXTENT = 512
/** vt-pbf writes MVT version 1 unless told otherwise. */
const MVT_VERSION = 2

type Props = { id: number; name: string | null; tag: string }

function clusterIndex(points: MapPoint[], tagKey: 'category' | 'kind') {
  const index = new Supercluster<Props, Record<string, never>>({
    radius: 40,
    extent: TILE_EXTENT,
    maxZoom: CLUSTER_MAX_ZOOM,
    map: () => ({}),
  })
  index.load(
    points.map((p) => ({
      type: 'Feature' as const,
      geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] },
      properties: { id: p.id, name: p.name, tag: p.tag },
    })),
  )
  return { index, tagKey }
}

function lonToX(lon: number, z: number) {
  return Math.floor(((lon + 180) / 360) * 2 ** z)
}

function latToY(lat: number, z: number) {
  const r = (lat * Math.PI) / 180
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z)
}

/** Tiles that hold a point, and their neighbours (which draw it in their buffer). */
function candidateTiles(points: MapPoint[], z: number): Array<[number, number]> {
  const n = 2 ** z
  const seen = new Set<number>()
  const out: Array<[number, number]> = []
  for (const p of points) {
    const x = lonToX(p.lon, z)
    const y = latToY(p.lat, z)
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++) {
        const tx = x + dx
        const ty = y + dy
        if (tx < 0 || ty < 0 || tx >= n || ty >= n) continue
        const key = ty * n + tx
        if (seen.has(key)) continue
        seen.add(key)
        out.push([tx, ty])
      }
  }
  return out
}

/** Compact MVT properties: clusters carry their count, points their id, Russian name and tag. */
function tileLayer(index: ReturnType<typeof clusterIndex>, z: number, x: number, y: number) {
  const tile = index.index.getTile(z, x, y)
  if (!tile || tile.features.length === 0) return null
  for (const f of tile.features as Array<{ tags: Record<string, unknown> }>) {
    const tags = f.tags
    if (tags.cluster) {
      f.tags = { cluster: true, point_count: tags.point_count as number }
    } else {
      const props: Record<string, string | number> = {
        id: tags.id as number,
        [index.tagKey]: tags.tag as string,
      }
      if (typeof tags.name === 'string') props.name = tags.name
      f.tags = props
    }
  }
  return tile
}

/**
 * Every non-empty tile of a city from z0 to TILE_MAX_ZOOM, layers `pois` and `helpers`, each
 * clustered with supercluster at low zoom and encoded as MVT v2 with vt-pbf.
 */
export function buildTilePyramid(pois: MapPoint[], helpers: MapPoint[]): BuiltTile[] {
  const poiIndex = clusterIndex(pois, 'category')
  const helperIndex = clusterIndex(helpers, 'kind')
  const all = [...pois, ...helpers]
  const tiles: BuiltTile[] = []
  for (let z = 0; z <= TILE_MAX_ZOOM; z++) {
    for (const [x, y] of candidateTiles(all, z)) {
      const layers: Record<string, NonNullable<ReturnType<typeof tileLayer>>> = {}
      const p = tileLayer(poiIndex, z, x, y)
      if (p) layers.pois = p
      const h = tileLayer(helperIndex, z, x, y)
      if (h) layers.helpers = h
      if (!p && !h) continue
      // biome-ignore lint/suspicious/noExplicitAny: supercluster's tile is geojson-vt's shape, typed apart.
      const mvt = fromGeojsonVt(layers as any, { version: MVT_VERSION, extent: TILE_EXTENT })
      const gzip = gzipSync(mvt, { level: 9 })
      tiles.push({ z, x, y, gzip, sha256: createHash('sha256').update(mvt).digest('hex') })
    }
  }
  return tiles
}

/** The city's data version: a hash over every point of both layers, in id order. */
export function dataHash(pois: MapPoint[], helpers: MapPoint[]): string {
  const h = createHash('sha256')
  for (const [layer, points] of [
    ['pois', pois],
    ['helpers', helpers],
  ] as const) {
    h.update(`${layer}\n`)
    for (const p of [...points].sort((a, b) => a.id - b.id))
      h.update(`${p.id}\t${p.name ?? ''}\t${p.tag}\t${p.lat}\t${p.lon}\n`)
  }
  return h.digest('hex')
}
