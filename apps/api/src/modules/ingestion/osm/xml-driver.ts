import type { Readable } from 'node:stream'
import { SaxesParser, type SaxesTagPlain } from 'saxes'
import { OsmFormatError } from './osm-format-error.js'
import { hasInterestingKey, type OsmMember, type OsmPassDriver } from './pass-driver.js'
import type { OsmType } from './types.js'

/** Opens the document afresh for each pass (a file, possibly through gunzip). */
export type OpenStream = () => Readable

interface Element {
  type: OsmType
  id: number
  /** Nodes only; NaN for ways and relations. */
  lat: number
  lon: number
  attrs: Record<string, string>
  tags: Record<string, string>
  refs: number[]
  members: OsmMember[]
  /** JOSM keeps deleted objects in the file, marked, until upload: they are not data. */
  deleted: boolean
}

const MEMBER_TYPES = new Set<string>(['node', 'way', 'relation'])

/**
 * Runs saxes over one stream and calls `onElement` when a node/way/relation closes. Fails with
 * OsmFormatError on malformed or truncated XML (saxes rejects unclosed tags at close()), on a value
 * that would otherwise become NaN downstream, and on history files.
 */
async function* parseElements(open: OpenStream, onElement: (el: Element) => void): AsyncGenerator<void> {
  const parser = new SaxesParser()
  let current: Element | null = null
  let previous = ''
  let sawRoot = false
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const a = tag.attributes as Record<string, string>
    switch (tag.name) {
      case 'node':
      case 'way':
      case 'relation': {
        const id = integer(a.id, `${tag.name} id`)
        const key = `${tag.name}/${id}`
        // History files list every version of an object in a row; flattening them would ingest
        // superseded and deleted versions as current data.
        if (key === previous)
          throw new OsmFormatError(`${key} appears twice in a row: OSM history files are not supported`)
        previous = key
        const deleted = a.action === 'delete' || a.visible === 'false'
        const isNode = tag.name === 'node' && !deleted
        current = {
          type: tag.name,
          id,
          lat: isNode ? coordinate(a.lat, `${key} lat`, 90) : Number.NaN,
          lon: isNode ? coordinate(a.lon, `${key} lon`, 180) : Number.NaN,
          attrs: a,
          tags: {},
          refs: [],
          members: [],
          deleted,
        }
        break
      }
      case 'tag':
        if (current && a.k !== undefined) current.tags[a.k] = a.v ?? ''
        break
      case 'nd':
        current?.refs.push(integer(a.ref, 'nd ref'))
        break
      case 'member':
        if (!current) break
        if (a.type === undefined || !MEMBER_TYPES.has(a.type)) {
          throw new OsmFormatError(`relation/${current.id} has a member of type ${a.type}`)
        }
        current.members.push({
          type: a.type as OsmType,
          ref: integer(a.ref, 'member ref'),
          role: a.role ?? '',
        })
        break
      case 'osm':
        sawRoot = true
        break
    }
  })
  parser.on('closetag', (tag) => {
    if (current && tag.name === current.type) {
      if (!current.deleted) onElement(current)
      current = null
    }
  })
  const stream = open()
  stream.setEncoding('utf8')
  for await (const chunk of stream) {
    parse(() => parser.write(chunk as string))
    yield
  }
  parse(() => parser.close())
  if (!sawRoot) throw new OsmFormatError('not an OSM XML document: no <osm> root element')
}

function parse(step: () => void): void {
  try {
    step()
  } catch (error) {
    if (error instanceof OsmFormatError) throw error
    throw new OsmFormatError(`malformed OSM XML: ${(error as Error).message}`, { cause: error })
  }
}

function integer(value: string | undefined, what: string): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isSafeInteger(n)) throw new OsmFormatError(`bad ${what}: ${value}`)
  return n
}

function coordinate(value: string | undefined, what: string, limit: number): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value)
  if (!(Math.abs(n) <= limit)) throw new OsmFormatError(`bad ${what}: ${value}`)
  return n
}

function version(attrs: Record<string, string>): number | null {
  return attrs.version === undefined ? null : Number(attrs.version)
}

/** OSM XML (`.osm`, or `.osm.gz` through the stream factory). */
export function xmlDriver(open: OpenStream): OsmPassDriver {
  const drain = async (gen: AsyncGenerator<void>) => {
    for await (const _ of gen);
  }
  return {
    async *primary(opts, counts, sink) {
      const keys = opts.keys ? new Set(opts.keys) : null
      yield* parseElements(open, (el) => {
        if (el.type === 'node') counts.nodes++
        else if (el.type === 'way') counts.ways++
        else counts.relations++
        const isBoundary = el.type === 'relation' && el.id === opts.boundaryRelationId
        // Untagged objects never reach `keep`, as in the PBF reader.
        const keep = Object.keys(el.tags).length > 0 && hasInterestingKey(keys, el.tags) && opts.keep(el.tags)
        if (!keep && !isBoundary) return
        const base = {
          id: el.id,
          version: version(el.attrs),
          timestamp: el.attrs.timestamp ?? null,
          tags: el.tags,
        }
        if (el.type === 'node') {
          sink.node({ ...base, type: 'node', lat: el.lat, lon: el.lon, position: 'node' })
        } else if (el.type === 'way') sink.way({ ...base, refs: el.refs })
        else sink.relation({ ...base, keep, members: el.members })
      })
    },
    async wayRefs(needed, found) {
      if (needed.size === 0) return
      await drain(
        parseElements(open, (el) => {
          if (el.type === 'way' && needed.has(el.id)) found(el.id, el.refs)
        }),
      )
    },
    async nodeCoords(needed, found) {
      if (needed.size === 0) return
      await drain(
        parseElements(open, (el) => {
          if (el.type === 'node' && needed.has(el.id)) found(el.id, el.lon, el.lat)
        }),
      )
    },
  }
}
