import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { SaxesParser, type SaxesTagPlain } from 'saxes'

/**
 * Builds a synthetic city from a small real extract: N copies side by side on a grid, ids renumbered
 * densely per type and every reference rewritten, so the result has real tag and geometry structure
 * at any size. The extract is small, so it is held in memory; the output is streamed.
 */

type Kind = 'node' | 'way' | 'relation'

interface Element {
  id: number
  attrs: Record<string, string>
  tags: [string, string][]
  refs: number[]
  members: { type: Kind; ref: number; role: string }[]
}

export interface Extract {
  node: Element[]
  way: Element[]
  relation: Element[]
  /** The area the extract was cut for (`<bounds>`), when the file says. */
  bounds?: { minLat: number; minLon: number; maxLat: number; maxLon: number }
}

export async function loadExtract(path: string): Promise<Extract> {
  const extract: Extract = { node: [], way: [], relation: [] }
  const parser = new SaxesParser()
  let current: Element | null = null
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const a = tag.attributes as Record<string, string>
    if (tag.name === 'bounds') {
      const [minLat, minLon, maxLat, maxLon] = [a.minlat, a.minlon, a.maxlat, a.maxlon].map(Number)
      extract.bounds = { minLat: minLat!, minLon: minLon!, maxLat: maxLat!, maxLon: maxLon! }
    } else if (tag.name === 'node' || tag.name === 'way' || tag.name === 'relation') {
      current = { id: Number(a.id), attrs: a, tags: [], refs: [], members: [] }
      extract[tag.name].push(current)
    } else if (tag.name === 'tag') current?.tags.push([a.k ?? '', a.v ?? ''])
    else if (tag.name === 'nd') current?.refs.push(Number(a.ref))
    else if (tag.name === 'member')
      current?.members.push({ type: a.type as Kind, ref: Number(a.ref), role: a.role ?? '' })
  })
  parser.on('closetag', (tag) => {
    if (tag.name === 'node' || tag.name === 'way' || tag.name === 'relation') current = null
  })
  const raw: Readable = createReadStream(path)
  const stream = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw
  stream.setEncoding('utf8')
  for await (const chunk of stream) parser.write(chunk as string)
  parser.close()
  for (const list of [extract.node, extract.way, extract.relation]) list.sort((a, b) => a.id - b.id)
  return extract
}

export function objectCount(extract: Extract): number {
  return extract.node.length + extract.way.length + extract.relation.length
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/**
 * Dense renumbering: copy k of the i-th element of a type gets k·count + i + 1. References to
 * objects the extract lacks (cut at its bbox) get ids above every real one, so they stay missing.
 */
class Renumber {
  private readonly index = new Map<number, number>()
  private readonly missing = new Map<number, number>()
  constructor(
    elements: Element[],
    private readonly copies: number,
  ) {
    elements.forEach((e, i) => {
      this.index.set(e.id, i)
    })
  }
  id(original: number, copy: number): number {
    const i = this.index.get(original)
    if (i !== undefined) return copy * this.index.size + i + 1
    let m = this.missing.get(original)
    if (m === undefined) {
      m = this.missing.size
      this.missing.set(original, m)
    }
    return this.copies * this.index.size + copy * 1_000_000 + m + 1
  }
}

/** Writes `copies` shifted copies as one OSM XML file, nodes then ways then relations, ids ascending. */
export async function writeTiledXml(extract: Extract, copies: number, outPath: string): Promise<void> {
  // The grid step is the area the extract was cut for. Its ways and relations are complete, so their
  // nodes reach far beyond it (a route across the city): a step from every node's extent would place
  // most copies outside the city, and a bigger file would not be a bigger city.
  const lats = extract.node.map((n) => Number(n.attrs.lat))
  const lons = extract.node.map((n) => Number(n.attrs.lon))
  const b = extract.bounds ?? {
    minLat: Math.min(...lats),
    minLon: Math.min(...lons),
    maxLat: Math.max(...lats),
    maxLon: Math.max(...lons),
  }
  const stepLat = (b.maxLat - b.minLat) * 1.05
  const stepLon = (b.maxLon - b.minLon) * 1.05
  const columns = Math.ceil(Math.sqrt(copies))
  const ids = {
    node: new Renumber(extract.node, copies),
    way: new Renumber(extract.way, copies),
    relation: new Renumber(extract.relation, copies),
  }
  const out = createWriteStream(outPath)
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain')
  }
  const head = (kind: Kind, e: Element, copy: number, extra = '') => {
    const { version, timestamp } = e.attrs
    const info = `${version ? ` version="${version}"` : ''}${timestamp ? ` timestamp="${timestamp}"` : ''}`
    return `  <${kind} id="${ids[kind].id(e.id, copy)}"${info}${extra}`
  }
  const tags = (e: Element) =>
    e.tags.map(([k, v]) => `    <tag k="${escapeXml(k)}" v="${escapeXml(v)}"/>\n`).join('')

  await write(
    `<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="gorod synthetic city">\n`,
  )
  for (let copy = 0; copy < copies; copy++) {
    const dLat = Math.floor(copy / columns) * stepLat
    const dLon = (copy % columns) * stepLon
    let chunk = ''
    for (const n of extract.node) {
      const lat = (Number(n.attrs.lat) + dLat).toFixed(7)
      const lon = (Number(n.attrs.lon) + dLon).toFixed(7)
      const start = head('node', n, copy, ` lat="${lat}" lon="${lon}"`)
      chunk += n.tags.length ? `${start}>\n${tags(n)}  </node>\n` : `${start}/>\n`
    }
    await write(chunk)
  }
  for (let copy = 0; copy < copies; copy++) {
    let chunk = ''
    for (const w of extract.way) {
      const nds = w.refs.map((r) => `    <nd ref="${ids.node.id(r, copy)}"/>\n`).join('')
      chunk += `${head('way', w, copy)}>\n${nds}${tags(w)}  </way>\n`
    }
    await write(chunk)
  }
  for (let copy = 0; copy < copies; copy++) {
    let chunk = ''
    for (const r of extract.relation) {
      const members = r.members
        .map(
          (m) =>
            `    <member type="${m.type}" ref="${ids[m.type].id(m.ref, copy)}" role="${escapeXml(m.role)}"/>\n`,
        )
        .join('')
      chunk += `${head('relation', r, copy)}>\n${members}${tags(r)}  </relation>\n`
    }
    await write(chunk)
  }
  await write('</osm>\n')
  out.end()
  await once(out, 'finish')
}
