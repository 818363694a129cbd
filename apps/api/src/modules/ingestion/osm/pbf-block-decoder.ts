import { PbfReader } from 'pbf'
import type { OsmElement, OsmHeader, OsmMember, OsmReadOptions, OsmTags, OsmType } from './osm-element.js'
import { EMPTY_TAGS, newTags, wantsType } from './osm-element.js'
import { OsmFormatError } from './osm-errors.js'

/** Features a reader must understand to read the file at all; anything else (history files) is refused. */
const SUPPORTED_REQUIRED_FEATURES = new Set(['OsmSchema-V0.6', 'DenseNodes'])
const MEMBER_TYPES: readonly OsmType[] = ['node', 'way', 'relation']

export function decodeHeaderBlock(data: Uint8Array): OsmHeader {
  const header: OsmHeader = {}
  const required: string[] = []
  new PbfReader(data).readFields((tag, h, pbf) => {
    if (tag === 1) {
      const box = pbf.readMessage(
        (t, b, p) => {
          if (t >= 1 && t <= 4) b[t - 1] = p.readSVarint() / 1e9
        },
        [0, 0, 0, 0],
      )
      h.bounds = { minLon: box[0]!, maxLon: box[1]!, maxLat: box[2]!, minLat: box[3]! }
    } else if (tag === 4) required.push(pbf.readString())
    else if (tag === 16) h.generator = pbf.readString()
    else if (tag === 32) h.dataTimestamp = new Date(pbf.readVarint(true) * 1000).toISOString()
  }, header)
  const unknown = required.filter((f) => !SUPPORTED_REQUIRED_FEATURES.has(f))
  if (unknown.length > 0) throw new OsmFormatError(`OSM PBF requires unsupported features: ${unknown.join(', ')}`)
  return header
}

interface BlockContext {
  strings: string[]
  granularity: number
  latOffset: number
  lonOffset: number
  out: OsmElement[]
  options: OsmReadOptions
}

export function decodePrimitiveBlock(data: Uint8Array, options: OsmReadOptions): OsmElement[] {
  const pbf = new PbfReader(data)
  const ctx: BlockContext = { strings: [], granularity: 100, latOffset: 0, lonOffset: 0, out: [], options }
  const groups: [number, number][] = []
  // Writers put granularity and offsets (fields 17-20) after the groups: read them all before any group.
  pbf.readFields((tag, c, p) => {
    if (tag === 1) p.readMessage((t, strings, q) => t === 1 && strings.push(q.readString()), c.strings)
    else if (tag === 2) {
      const end = p.readVarint() + p.pos
      groups.push([p.pos, end])
      p.pos = end
    } else if (tag === 17) c.granularity = p.readVarint()
    else if (tag === 19) c.latOffset = p.readVarint(true)
    else if (tag === 20) c.lonOffset = p.readVarint(true)
  }, ctx)
  for (const [start, end] of groups) {
    pbf.pos = start
    pbf.readFields(readGroupField, ctx, end)
  }
  return ctx.out
}

function readGroupField(tag: number, ctx: BlockContext, pbf: PbfReader): void {
  if (tag === 1 && wantsType(ctx.options, 'node')) readNode(pbf, ctx)
  else if (tag === 2 && wantsType(ctx.options, 'node')) readDenseNodes(pbf, ctx)
  else if (tag === 3 && wantsType(ctx.options, 'way')) readWay(pbf, ctx)
  else if (tag === 4 && wantsType(ctx.options, 'relation')) readRelation(pbf, ctx)
}

/**
 * Integer nanodegrees divided once: IEEE division is correctly rounded, so 557512345·100 / 1e9 is the
 * very double that parsing "55.7512345" gives, and PBF and XML readers agree bit for bit.
 */
function degrees(ctx: BlockContext, offset: number, raw: number): number {
  return (offset + ctx.granularity * raw) / 1e9
}

function readNode(pbf: PbfReader, ctx: BlockContext): void {
  const node = { id: 0, keys: [] as number[], vals: [] as number[], lat: 0, lon: 0 }
  pbf.readMessage((tag, n, p) => {
    if (tag === 1) n.id = p.readSVarint()
    else if (tag === 2) p.readPackedVarint(n.keys)
    else if (tag === 3) p.readPackedVarint(n.vals)
    else if (tag === 8) n.lat = p.readSVarint()
    else if (tag === 9) n.lon = p.readSVarint()
  }, node)
  ctx.out.push({
    type: 'node',
    id: node.id,
    lat: degrees(ctx, ctx.latOffset, node.lat),
    lon: degrees(ctx, ctx.lonOffset, node.lon),
    tags: tagsOf(ctx, node.keys, node.vals, `node ${node.id}`),
  })
}

function readDenseNodes(pbf: PbfReader, ctx: BlockContext): void {
  const dense = { ids: [] as number[], lats: [] as number[], lons: [] as number[], keysVals: [] as number[] }
  pbf.readMessage((tag, d, p) => {
    if (tag === 1) p.readPackedSVarint(d.ids)
    else if (tag === 8) p.readPackedSVarint(d.lats)
    else if (tag === 9) p.readPackedSVarint(d.lons)
    else if (tag === 10) p.readPackedVarint(d.keysVals)
  }, dense)
  const { ids, lats, lons, keysVals } = dense
  if (lats.length !== ids.length || lons.length !== ids.length) {
    throw new OsmFormatError(`corrupt OSM PBF: dense nodes with ${ids.length} ids but ${lats.length} lats`)
  }
  let id = 0
  let lat = 0
  let lon = 0
  let kv = 0
  for (let i = 0; i < ids.length; i++) {
    id += ids[i]!
    lat += lats[i]!
    lon += lons[i]!
    let tags = EMPTY_TAGS
    // keys_vals: k, v, k, v, ..., 0 per node; absent altogether when no node in the block has tags.
    if (kv < keysVals.length && keysVals[kv] !== 0) {
      const t = newTags()
      while (kv < keysVals.length && keysVals[kv] !== 0) {
        t[stringAt(ctx, keysVals[kv]!, id)] = stringAt(ctx, keysVals[kv + 1]!, id)
        kv += 2
      }
      tags = t
    }
    kv++
    ctx.out.push({
      type: 'node',
      id,
      lat: degrees(ctx, ctx.latOffset, lat),
      lon: degrees(ctx, ctx.lonOffset, lon),
      tags,
    })
  }
}

function readWay(pbf: PbfReader, ctx: BlockContext): void {
  const way = { id: 0, keys: [] as number[], vals: [] as number[], refs: [] as number[] }
  pbf.readMessage((tag, w, p) => {
    if (tag === 1) w.id = p.readVarint(true)
    else if (tag === 2) p.readPackedVarint(w.keys)
    else if (tag === 3) p.readPackedVarint(w.vals)
    else if (tag === 8) p.readPackedSVarint(w.refs)
  }, way)
  let ref = 0
  for (let i = 0; i < way.refs.length; i++) way.refs[i] = ref += way.refs[i]!
  ctx.out.push({ type: 'way', id: way.id, nodeRefs: way.refs, tags: tagsOf(ctx, way.keys, way.vals, `way ${way.id}`) })
}

function readRelation(pbf: PbfReader, ctx: BlockContext): void {
  const rel = { id: 0, keys: [] as number[], vals: [] as number[], roles: [] as number[], ids: [] as number[], types: [] as number[] }
  pbf.readMessage((tag, r, p) => {
    if (tag === 1) r.id = p.readVarint(true)
    else if (tag === 2) p.readPackedVarint(r.keys)
    else if (tag === 3) p.readPackedVarint(r.vals)
    else if (tag === 8) p.readPackedVarint(r.roles)
    else if (tag === 9) p.readPackedSVarint(r.ids)
    else if (tag === 10) p.readPackedVarint(r.types)
  }, rel)
  if (rel.roles.length !== rel.ids.length || rel.types.length !== rel.ids.length) {
    throw new OsmFormatError(`corrupt OSM PBF: relation ${rel.id} has mismatched member arrays`)
  }
  const members: OsmMember[] = new Array(rel.ids.length)
  let ref = 0
  for (let i = 0; i < rel.ids.length; i++) {
    ref += rel.ids[i]!
    const type = MEMBER_TYPES[rel.types[i]!]
    if (!type) throw new OsmFormatError(`corrupt OSM PBF: relation ${rel.id} has member type ${rel.types[i]}`)
    members[i] = { type, ref, role: stringAt(ctx, rel.roles[i]!, rel.id) }
  }
  ctx.out.push({ type: 'relation', id: rel.id, members, tags: tagsOf(ctx, rel.keys, rel.vals, `relation ${rel.id}`) })
}

function tagsOf(ctx: BlockContext, keys: number[], vals: number[], what: string): OsmTags {
  if (keys.length === 0) return EMPTY_TAGS
  if (keys.length !== vals.length) throw new OsmFormatError(`corrupt OSM PBF: ${what} has unpaired tag keys`)
  const tags = newTags()
  for (let i = 0; i < keys.length; i++) tags[stringAt(ctx, keys[i]!, what)] = stringAt(ctx, vals[i]!, what)
  return tags
}

function stringAt(ctx: BlockContext, index: number, what: string | number): string {
  const s = ctx.strings[index]
  if (s === undefined) throw new OsmFormatError(`corrupt OSM PBF: string ${index} out of range in ${what}`)
  return s
}
