import { SaxesParser, type SaxesTagPlain } from 'saxes'
import { isValidLatLon } from '../../../platform/geo/lat-lon.js'
import type { OsmElement, OsmHeader, OsmMember, OsmReadOptions, OsmType } from './osm-element.js'
import { EMPTY_TAGS, newTags, wantsType } from './osm-element.js'
import { OsmFormatError, OverpassRemarkError } from './osm-errors.js'

const BATCH_SIZE = 2000
const MEMBER_TYPES = new Set<string>(['node', 'way', 'relation'])

/**
 * Streams OSM XML (API 0.6, JOSM, osmium, Overpass `out:xml`) as batches of elements. Input is raw
 * bytes: decoding happens here so that a Cyrillic character split between two chunks is joined, not
 * turned into U+FFFD. Elements that JOSM marks deleted (`action="delete"`, `visible="false"`) are left out.
 */
export async function* readOsmXml(
  source: AsyncIterable<Uint8Array>,
  options: OsmReadOptions = {},
): AsyncGenerator<OsmElement[]> {
  const state = new XmlState(options)
  const parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true })
  parser.on('xmldecl', (decl) => {
    if (decl.encoding && decl.encoding.toLowerCase().replace('_', '-') !== 'utf-8') {
      throw new OsmFormatError(`OSM XML must be UTF-8, this file declares ${decl.encoding}`)
    }
  })
  parser.on('opentag', (tag) => state.open(tag))
  parser.on('closetag', (tag) => state.close(tag.name))
  parser.on('text', (text) => state.text(text))
  // fatal: invalid UTF-8 is a broken file, not names to store with replacement characters.
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const write = (text: string) => {
    try {
      parser.write(text)
    } catch (error) {
      throw asFormatError(error, parser.line)
    }
  }

  for await (const chunk of source) {
    write(decoder.decode(chunk, { stream: true }))
    if (state.batch.length >= BATCH_SIZE) yield state.takeBatch()
  }
  write(decoder.decode())
  try {
    parser.close()
  } catch (error) {
    throw asFormatError(error, parser.line)
  }
  if (!state.sawRoot) throw new OsmFormatError('not an OSM XML document: no <osm> root element')
  if (state.batch.length > 0) yield state.takeBatch()
}

class XmlState {
  batch: OsmElement[] = []
  sawRoot = false
  private header: OsmHeader = {}
  private headerSent = false
  private current: { type: OsmType; id: number; lat: number; lon: number; skip: boolean } | null = null
  private tags: Record<string, string> | null = null
  private nodeRefs: number[] = []
  private members: OsmMember[] = []
  private remark: string | null = null

  constructor(private readonly options: OsmReadOptions) {}

  takeBatch(): OsmElement[] {
    const batch = this.batch
    this.batch = []
    return batch
  }

  open(tag: SaxesTagPlain): void {
    const a = tag.attributes
    switch (tag.name) {
      case 'osm':
        this.sawRoot = true
        if (a.generator) this.header.generator = a.generator
        return
      case 'osmChange':
        throw new OsmFormatError('osmChange (diff) files are not OSM data files')
      case 'bounds':
        this.header.bounds = {
          minLat: coordinate(a.minlat, 'bounds minlat'),
          minLon: coordinate(a.minlon, 'bounds minlon'),
          maxLat: coordinate(a.maxlat, 'bounds maxlat'),
          maxLon: coordinate(a.maxlon, 'bounds maxlon'),
        }
        return
      case 'meta':
        if (a.osm_base) this.header.dataTimestamp = a.osm_base
        return
      case 'remark':
        this.remark = ''
        return
      case 'node':
      case 'way':
      case 'relation': {
        this.sendHeader()
        const skip = !wantsType(this.options, tag.name) || a.action === 'delete' || a.visible === 'false'
        const id = integer(a.id, `${tag.name} id`)
        let lat = Number.NaN
        let lon = Number.NaN
        if (tag.name === 'node' && !skip) {
          lat = coordinate(a.lat, `node ${id} lat`)
          lon = coordinate(a.lon, `node ${id} lon`)
          if (!isValidLatLon(lat, lon))
            throw new OsmFormatError(`node ${id} lies off the globe: ${lat},${lon}`)
        }
        this.current = { type: tag.name, id, lat, lon, skip }
        this.tags = null
        this.nodeRefs = []
        this.members = []
        return
      }
      case 'tag':
        if (this.current?.skip === false) {
          if (a.k === undefined || a.v === undefined)
            throw new OsmFormatError(`<tag> without k or v in ${this.where()}`)
          this.tags ??= newTags()
          this.tags[a.k] = a.v
        }
        return
      case 'nd':
        if (this.current?.skip === false) this.nodeRefs.push(integer(a.ref, `nd ref in ${this.where()}`))
        return
      case 'member':
        if (this.current?.skip === false) {
          if (!a.type || !MEMBER_TYPES.has(a.type))
            throw new OsmFormatError(`bad member type in ${this.where()}`)
          this.members.push({
            type: a.type as OsmType,
            ref: integer(a.ref, `member ref in ${this.where()}`),
            role: a.role ?? '',
          })
        }
        return
    }
  }

  close(name: string): void {
    if (name === 'remark' && this.remark !== null) throw new OverpassRemarkError(this.remark.trim())
    const current = this.current
    if (!current || name !== current.type) return
    this.current = null
    if (current.skip) return
    const tags = this.tags ?? EMPTY_TAGS
    if (current.type === 'node') {
      this.batch.push({ type: 'node', id: current.id, lat: current.lat, lon: current.lon, tags })
    } else if (current.type === 'way') {
      this.batch.push({ type: 'way', id: current.id, nodeRefs: this.nodeRefs, tags })
    } else {
      this.batch.push({ type: 'relation', id: current.id, members: this.members, tags })
    }
  }

  text(text: string): void {
    if (this.remark !== null) this.remark += text
  }

  private sendHeader(): void {
    if (this.headerSent) return
    this.headerSent = true
    this.options.onHeader?.(this.header)
  }

  private where(): string {
    return this.current ? `${this.current.type} ${this.current.id}` : 'no element'
  }
}

function integer(value: string | undefined, what: string): number {
  const n = value === undefined ? Number.NaN : Number(value)
  if (!Number.isSafeInteger(n) || value?.trim() === '') throw new OsmFormatError(`bad ${what}: ${value}`)
  return n
}

function coordinate(value: string | undefined, what: string): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isFinite(n)) throw new OsmFormatError(`bad ${what}: ${value}`)
  return n
}

function asFormatError(error: unknown, line: number): Error {
  if (error instanceof OsmFormatError || error instanceof OverpassRemarkError) return error
  if (
    error instanceof TypeError &&
    (error as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA'
  ) {
    return new OsmFormatError(`OSM XML is not valid UTF-8 (near line ${line})`, { cause: error })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new OsmFormatError(`malformed OSM XML: ${message}`, { cause: error })
}
