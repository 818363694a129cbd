import type { Readable } from 'node:stream'
import { SaxesParser, type SaxesTagPlain } from 'saxes'
import { hasInterestingKey, type OsmMember, type OsmPassDriver } from './pass-driver.js'
import type { OsmType } from './types.js'

/** Opens the document afresh for each pass (a file, possibly through gunzip). */
export type OpenStream = () => Readable

interface Element {
  type: OsmType
  attrs: Record<string, string>
  tags: Record<string, string>
  refs: number[]
  members: OsmMember[]
}

/**
 * Runs saxes over one stream and calls `onElement` when a node/way/relation closes. Fails on
 * malformed or truncated XML: saxes rejects unclosed tags at close().
 */
async function* parseElements(open: OpenStream, onElement: (el: Element) => void): AsyncGenerator<void> {
  const parser = new SaxesParser()
  let current: Element | null = null
  let sawRoot = false
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const a = tag.attributes as Record<string, string>
    switch (tag.name) {
      case 'node':
      case 'way':
      case 'relation':
        current = { type: tag.name, attrs: a, tags: {}, refs: [], members: [] }
        break
      case 'tag':
        if (current && a.k !== undefined) current.tags[a.k] = a.v ?? ''
        break
      case 'nd':
        current?.refs.push(Number(a.ref))
        break
      case 'member':
        current?.members.push({ type: a.type as OsmType, ref: Number(a.ref), role: a.role ?? '' })
        break
      case 'osm':
        sawRoot = true
        break
    }
  })
  parser.on('closetag', (tag) => {
    if (current && tag.name === current.type) {
      onElement(current)
      current = null
    }
  })
  const stream = open()
  stream.setEncoding('utf8')
  for await (const chunk of stream) {
    parser.write(chunk as string)
    yield
  }
  parser.close()
  if (!sawRoot) throw new Error('not an OSM XML document: no <osm> root element')
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
        const id = Number(el.attrs.id)
        const isBoundary = el.type === 'relation' && id === opts.boundaryRelationId
        // Untagged objects never reach `keep`, as in the PBF reader.
        const keep = Object.keys(el.tags).length > 0 && hasInterestingKey(keys, el.tags) && opts.keep(el.tags)
        if (!keep && !isBoundary) return
        const base = { id, version: version(el.attrs), timestamp: el.attrs.timestamp ?? null, tags: el.tags }
        if (el.type === 'node') {
          sink.node({
            ...base,
            type: 'node',
            lat: Number(el.attrs.lat),
            lon: Number(el.attrs.lon),
            position: 'node',
          })
        } else if (el.type === 'way') sink.way({ ...base, refs: el.refs })
        else sink.relation({ ...base, keep, members: el.members })
      })
    },
    async wayRefs(needed, found) {
      if (needed.size === 0) return
      await drain(
        parseElements(open, (el) => {
          const id = Number(el.attrs.id)
          if (el.type === 'way' && needed.has(id)) found(id, el.refs)
        }),
      )
    },
    async nodeCoords(needed, found) {
      if (needed.size === 0) return
      await drain(
        parseElements(open, (el) => {
          const id = Number(el.attrs.id)
          if (el.type === 'node' && needed.has(id)) found(id, Number(el.attrs.lon), Number(el.attrs.lat))
        }),
      )
    },
  }
}
