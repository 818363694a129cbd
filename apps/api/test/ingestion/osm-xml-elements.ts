import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { SaxesParser } from 'saxes'
import type { OsmFeature, OsmType } from '../../src/modules/ingestion/normalize.js'

interface Box {
  minLat: number
  minLon: number
  maxLat: number
  maxLon: number
}

const emptyBox = (): Box => ({ minLat: 90, minLon: 180, maxLat: -90, maxLon: -180 })

function extend(box: Box, other: Box): void {
  box.minLat = Math.min(box.minLat, other.minLat)
  box.minLon = Math.min(box.minLon, other.minLon)
  box.maxLat = Math.max(box.maxLat, other.maxLat)
  box.maxLon = Math.max(box.maxLon, other.maxLon)
}

/**
 * Test-only reader of an OSM XML extract (plain or .gz): every element with its tags, and a
 * position (ways and relations: centre of the bounding box of their resolvable members, NaN when
 * none resolves). Elements are expected in the usual order: nodes, then ways, then relations.
 */
export function readOsmXml(path: string): OsmFeature[] {
  const raw = readFileSync(path)
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')
  const boxes = new Map<string, Box>()
  const features: OsmFeature[] = []
  let current: (OsmFeature & { box: Box }) | null = null
  const parser = new SaxesParser()
  parser.on('opentag', (tag) => {
    const a = tag.attributes as Record<string, string>
    if (tag.name === 'node' || tag.name === 'way' || tag.name === 'relation') {
      const lat = Number(a.lat)
      const lon = Number(a.lon)
      current = {
        type: tag.name as OsmType,
        id: Number(a.id),
        version: a.version === undefined ? null : Number(a.version),
        timestamp: a.timestamp ?? null,
        tags: {},
        lat,
        lon,
        box: tag.name === 'node' ? { minLat: lat, minLon: lon, maxLat: lat, maxLon: lon } : emptyBox(),
      }
    } else if (current && tag.name === 'tag') {
      ;(current.tags as Record<string, string>)[a.k!] = a.v!
    } else if (current && (tag.name === 'nd' || tag.name === 'member')) {
      const member = boxes.get(`${tag.name === 'nd' ? 'node' : a.type}/${a.ref}`)
      if (member) extend(current.box, member)
    }
  })
  parser.on('closetag', (tag) => {
    if (!current || tag.name !== current.type) return
    const { box, ...feature } = current
    if (feature.type !== 'node') {
      feature.lat = box.minLat <= box.maxLat ? (box.minLat + box.maxLat) / 2 : Number.NaN
      feature.lon = box.minLon <= box.maxLon ? (box.minLon + box.maxLon) / 2 : Number.NaN
    }
    if (box.minLat <= box.maxLat) boxes.set(`${feature.type}/${feature.id}`, box)
    features.push(feature)
    current = null
  })
  parser.write(text).close()
  return features
}
