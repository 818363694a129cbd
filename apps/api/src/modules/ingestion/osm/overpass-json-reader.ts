import type { Readable } from 'node:stream'
import { JSONParser } from '@streamparser/json'
import type { ObjectCounts } from './pass-driver.js'
import type { OsmFeature, OsmReadOptions, OsmReadResult, OsmType } from './types.js'

/** Overpass reports a timeout or out-of-memory as HTTP 200 with a `remark`: the data is incomplete. */
export class OverpassRemarkError extends Error {
  override name = 'OverpassRemarkError'
  constructor(readonly remark: string) {
    super(`Overpass answered with an error remark: ${remark}`)
  }
}

const FAILED_REMARK = /^\s*(runtime error|runtime remark|error)/i

interface OverpassElement {
  type?: unknown
  id?: unknown
  lat?: unknown
  lon?: unknown
  center?: { lat?: unknown; lon?: unknown }
  tags?: Record<string, string>
  version?: unknown
  timestamp?: unknown
}

const TYPES = new Set<OsmType>(['node', 'way', 'relation'])

function toFeature(el: OverpassElement): OsmFeature | 'unresolved' | null {
  if (typeof el.type !== 'string' || !TYPES.has(el.type as OsmType) || typeof el.id !== 'number') return null
  const tags = el.tags ?? {}
  const at =
    typeof el.lat === 'number' && typeof el.lon === 'number'
      ? { lat: el.lat, lon: el.lon, position: 'node' as const }
      : typeof el.center?.lat === 'number' && typeof el.center.lon === 'number'
        ? { lat: el.center.lat, lon: el.center.lon, position: 'center' as const }
        : null
  if (!at) return 'unresolved'
  return {
    type: el.type as OsmType,
    id: el.id,
    version: typeof el.version === 'number' ? el.version : null,
    timestamp: typeof el.timestamp === 'string' ? el.timestamp : null,
    tags,
    ...at,
  }
}

/**
 * Streams an Overpass JSON answer (`out center tags`): one element in memory at a time. A failure
 * remark, invalid JSON or a cut-off body makes the iteration reject after the features read so far.
 */
export function readOverpassJson(stream: Readable, opts: OsmReadOptions): OsmReadResult {
  const counts: ObjectCounts = { nodes: 0, ways: 0, relations: 0 }
  let kept = 0
  let unresolved = 0

  async function* run(): AsyncGenerator<OsmFeature> {
    const parser = new JSONParser({ paths: ['$.elements.*', '$.remark', '$.version'], keepStack: false })
    const ready: OsmFeature[] = []
    let remark: string | null = null
    let sawVersion = false
    parser.onValue = ({ value, key, stack }) => {
      if (stack.length === 1) {
        if (key === 'remark') remark = String(value)
        if (key === 'version') sawVersion = true
        return
      }
      const el = value as OverpassElement
      if (el.type === 'node') counts.nodes++
      else if (el.type === 'way') counts.ways++
      else if (el.type === 'relation') counts.relations++
      const tags = el.tags && typeof el.tags === 'object' ? el.tags : {}
      if (Object.keys(tags).length === 0 || !opts.keep(tags)) return
      const f = toFeature(el)
      if (f === 'unresolved') unresolved++
      else if (f) ready.push(f)
    }
    for await (const chunk of stream) {
      parser.write(chunk as Buffer)
      for (const f of ready) {
        kept++
        yield f
      }
      ready.length = 0
    }
    if (!parser.isEnded) parser.end()
    if (remark !== null && FAILED_REMARK.test(remark)) throw new OverpassRemarkError(remark)
    if (!sawVersion) throw new Error('not an Overpass JSON answer: no "version" field')
  }

  let started = false
  return {
    [Symbol.asyncIterator]() {
      if (started) throw new Error('an OSM read result can be iterated only once')
      started = true
      return run()
    },
    stats: () => ({ ...counts, kept, unresolved }),
    boundary: () => null,
  }
}
