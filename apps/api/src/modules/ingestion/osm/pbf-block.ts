import { PbfReader } from 'pbf'
import {
  type ObjectCounts as Counts,
  isoFromMillis,
  type OsmMember,
  type PrimarySink,
} from './pass-driver.js'
import { countVarints, fieldsOf, lengthDelimited, readDeltaList, readDeltas } from './pbf-fields.js'
import type { OsmReadOptions, OsmType } from './types.js'

/** Bit flags of which object types a block holds, so later passes read only the blocks they need. */
export const HAS_NODES = 1
export const HAS_WAYS = 2
export const HAS_RELATIONS = 4

const MEMBER_TYPES: OsmType[] = ['node', 'way', 'relation']

/** Scratch buffers reused for every dense group: no per-node allocation. */
let scratchIds = new Float64Array(8192)
let scratchLat = new Float64Array(8192)
let scratchLon = new Float64Array(8192)

function ensureScratch(n: number): void {
  if (scratchIds.length >= n) return
  scratchIds = new Float64Array(n)
  scratchLat = new Float64Array(n)
  scratchLon = new Float64Array(n)
}

/**
 * One decompressed PrimitiveBlock. Strings are decoded lazily and cached, and an object's tags are
 * decoded only if one of its keys is of interest, because most OSM objects are untagged geometry.
 */
export class PrimitiveBlock {
  private readonly p: PbfReader
  private readonly strStart: Int32Array
  private readonly strEnd: Int32Array
  private readonly strings: (string | undefined)[]
  private interesting: Uint8Array | null = null
  private readonly groups: [number, number][] = []
  private granularity = 100
  private latOffset = 0
  private lonOffset = 0
  private dateGranularity = 1000
  kinds = 0

  constructor(private readonly buf: Buffer) {
    const p = new PbfReader(buf)
    this.p = p
    let st: [number, number] = [0, 0]
    while (p.pos < p.length) {
      const key = p.readVarint()
      switch (key >> 3) {
        case 1:
          st = lengthDelimited(p)
          break
        case 2:
          this.groups.push(lengthDelimited(p))
          break
        case 17:
          this.granularity = p.readVarint()
          break
        case 18:
          this.dateGranularity = p.readVarint()
          break
        case 19:
          this.latOffset = p.readVarint(true)
          break
        case 20:
          this.lonOffset = p.readVarint(true)
          break
        default:
          p.skip(key)
      }
    }
    const starts: number[] = []
    const ends: number[] = []
    p.pos = st[0]
    while (p.pos < st[1]) {
      const key = p.readVarint()
      if (key >> 3 !== 1) {
        p.skip(key)
        continue
      }
      const [s, e] = lengthDelimited(p)
      starts.push(s)
      ends.push(e)
    }
    this.strStart = Int32Array.from(starts)
    this.strEnd = Int32Array.from(ends)
    this.strings = new Array(starts.length)
  }

  private str(i: number): string {
    let s = this.strings[i]
    if (s === undefined) {
      s = this.buf.toString('utf8', this.strStart[i], this.strEnd[i])
      this.strings[i] = s
    }
    return s
  }

  /** Marks the string-table entries equal to a wanted key; byte comparison avoids decoding them all. */
  private markInteresting(keys: readonly Buffer[] | null): Uint8Array {
    if (this.interesting) return this.interesting
    const n = this.strStart.length
    const flags = new Uint8Array(n)
    for (let i = 1; i < n; i++) {
      if (keys === null) flags[i] = 1
      else {
        const s = this.strStart[i]!
        const len = this.strEnd[i]! - s
        for (const k of keys) {
          if (k.length === len && this.buf.compare(k, 0, len, s, s + len) === 0) {
            flags[i] = 1
            break
          }
        }
      }
    }
    this.interesting = flags
    return flags
  }

  private lat(raw: number): number {
    return (this.latOffset + this.granularity * raw) / 1e9
  }

  private lon(raw: number): number {
    return (this.lonOffset + this.granularity * raw) / 1e9
  }

  /** Pass 1: counts everything, hands kept objects (and the boundary relation) to the sink. */
  primary(opts: OsmReadOptions, keyBytes: readonly Buffer[] | null, counts: Counts, sink: PrimarySink): void {
    const interesting = this.markInteresting(keyBytes)
    const p = this.p
    for (const [gs, ge] of this.groups) {
      p.pos = gs
      while (p.pos < ge) {
        const key = p.readVarint()
        const field = key >> 3
        if (field === 2) {
          const [s, e] = lengthDelimited(p)
          this.kinds |= HAS_NODES
          this.denseNodes(s, e, opts, interesting, counts, sink)
          p.pos = e
        } else if (field === 1 || field === 3 || field === 4) {
          const [s, e] = lengthDelimited(p)
          this.kinds |= field === 1 ? HAS_NODES : field === 3 ? HAS_WAYS : HAS_RELATIONS
          this.element(field, s, e, opts, interesting, counts, sink)
          p.pos = e
        } else p.skip(key)
      }
    }
  }

  private denseNodes(
    start: number,
    end: number,
    opts: OsmReadOptions,
    interesting: Uint8Array,
    counts: Counts,
    sink: PrimarySink,
  ): void {
    const p = this.p
    let ids: [number, number] = [0, 0]
    let lats: [number, number] = [0, 0]
    let lons: [number, number] = [0, 0]
    let kv: [number, number] = [0, 0]
    let info: [number, number] = [0, 0]
    p.pos = start
    while (p.pos < end) {
      const key = p.readVarint()
      const field = key >> 3
      if (field === 1) ids = lengthDelimited(p)
      else if (field === 5) info = lengthDelimited(p)
      else if (field === 8) lats = lengthDelimited(p)
      else if (field === 9) lons = lengthDelimited(p)
      else if (field === 10) kv = lengthDelimited(p)
      else p.skip(key)
    }
    const n = countVarints(this.buf, ids[0], ids[1])
    counts.nodes += n
    if (kv[1] === kv[0]) return
    const keptIndex: number[] = []
    const keptTags: Record<string, string>[] = []
    p.pos = kv[0]
    for (let i = 0; p.pos < kv[1]; i++) {
      const nodeStart = p.pos
      let hit = false
      for (let k = p.readVarint(); k !== 0 && p.pos < kv[1]; k = p.readVarint()) {
        if (interesting[k]) hit = true
        p.readVarint()
      }
      if (!hit) continue
      const after = p.pos
      const tags: Record<string, string> = {}
      p.pos = nodeStart
      for (let k = p.readVarint(); k !== 0; k = p.readVarint()) tags[this.str(k)] = this.str(p.readVarint())
      p.pos = after
      if (opts.keep(tags)) {
        keptIndex.push(i)
        keptTags.push(tags)
      }
    }
    if (keptIndex.length === 0) return
    const last = keptIndex[keptIndex.length - 1]! + 1
    ensureScratch(last)
    readDeltas(p, ids[0], ids[1], scratchIds, last)
    readDeltas(p, lats[0], lats[1], scratchLat, last)
    readDeltas(p, lons[0], lons[1], scratchLon, last)
    const versions = new Float64Array(last).fill(Number.NaN)
    const stamps = new Float64Array(last).fill(Number.NaN)
    if (info[1] > info[0]) {
      p.pos = info[0]
      while (p.pos < info[1]) {
        const key = p.readVarint()
        const field = key >> 3
        if (field === 1 || field === 2) {
          const [s, e] = lengthDelimited(p)
          const after = p.pos
          p.pos = s
          let acc = 0
          for (let i = 0; p.pos < e && i < last; i++) {
            if (field === 1) versions[i] = p.readVarint()
            else {
              acc += p.readSVarint()
              stamps[i] = acc
            }
          }
          p.pos = after
        } else p.skip(key)
      }
    }
    keptIndex.forEach((i, j) => {
      const version = versions[i]!
      const stamp = stamps[i]!
      sink.node({
        type: 'node',
        id: scratchIds[i]!,
        version: Number.isNaN(version) ? null : version,
        timestamp: Number.isNaN(stamp) ? null : isoFromMillis(stamp * this.dateGranularity),
        tags: keptTags[j]!,
        lat: this.lat(scratchLat[i]!),
        lon: this.lon(scratchLon[i]!),
        position: 'node',
      })
    })
  }

  /** A plain Node (1), Way (3) or Relation (4) message. */
  private element(
    kind: number,
    start: number,
    end: number,
    opts: OsmReadOptions,
    interesting: Uint8Array,
    counts: Counts,
    sink: PrimarySink,
  ): void {
    const p = this.p
    const f = fieldsOf(p, start, end)
    if (kind === 1) counts.nodes++
    else if (kind === 3) counts.ways++
    else counts.relations++
    const isBoundary = kind === 4 && f.id === opts.boundaryRelationId
    let hit = isBoundary
    p.pos = f.keys[0]
    while (!hit && p.pos < f.keys[1]) if (interesting[p.readVarint()]) hit = true
    if (!hit) return
    const tags: Record<string, string> = {}
    let kp = f.keys[0]
    let vp = f.vals[0]
    while (kp < f.keys[1] && vp < f.vals[1]) {
      p.pos = kp
      const k = p.readVarint()
      kp = p.pos
      p.pos = vp
      const v = p.readVarint()
      vp = p.pos
      tags[this.str(k)] = this.str(v)
    }
    const keep = opts.keep(tags)
    if (!keep && !isBoundary) return
    const { version, timestamp } = this.info(f.info)
    const base = { id: f.id, version, timestamp, tags }
    if (kind === 1) {
      if (keep)
        sink.node({ ...base, type: 'node', lat: this.lat(f.lat), lon: this.lon(f.lon), position: 'node' })
    } else if (kind === 3) {
      sink.way({ ...base, refs: readDeltaList(p, f.refs) })
    } else {
      const ids = readDeltaList(p, f.memids)
      const roles: number[] = []
      const types: number[] = []
      p.pos = f.roles[0]
      while (p.pos < f.roles[1]) roles.push(p.readVarint())
      p.pos = f.types[0]
      while (p.pos < f.types[1]) types.push(p.readVarint())
      const members: OsmMember[] = ids.map((ref, i) => ({
        type: MEMBER_TYPES[types[i] ?? 0] ?? 'node',
        ref,
        role: this.str(roles[i] ?? 0),
      }))
      sink.relation({ ...base, keep, members })
    }
  }

  private info([start, end]: [number, number]): { version: number | null; timestamp: string | null } {
    const p = this.p
    let version: number | null = null
    let timestamp: string | null = null
    p.pos = start
    while (p.pos < end) {
      const key = p.readVarint()
      if (key >> 3 === 1) version = p.readVarint()
      else if (key >> 3 === 2) timestamp = isoFromMillis(p.readVarint(true) * this.dateGranularity)
      else p.skip(key)
    }
    return { version, timestamp }
  }

  /** Pass 2: node refs of the wanted ways. */
  wayRefs(needed: ReadonlySet<number>, found: (id: number, refs: number[]) => void): void {
    this.eachElement(3, (s, e) => {
      const f = fieldsOf(this.p, s, e)
      if (needed.has(f.id)) found(f.id, readDeltaList(this.p, f.refs))
    })
  }

  /** Pass 3: coordinates of the wanted nodes; tags and info are skipped unread. */
  nodeCoords(needed: ReadonlySet<number>, found: (id: number, lon: number, lat: number) => void): void {
    const p = this.p
    this.eachElement(1, (s, e) => {
      const f = fieldsOf(p, s, e)
      if (needed.has(f.id)) found(f.id, this.lon(f.lon), this.lat(f.lat))
    })
    this.eachElement(2, (start, end) => {
      let ids: [number, number] = [0, 0]
      let lats: [number, number] = [0, 0]
      let lons: [number, number] = [0, 0]
      p.pos = start
      while (p.pos < end) {
        const key = p.readVarint()
        const field = key >> 3
        if (field === 1) ids = lengthDelimited(p)
        else if (field === 8) lats = lengthDelimited(p)
        else if (field === 9) lons = lengthDelimited(p)
        else p.skip(key)
      }
      ensureScratch(countVarints(this.buf, ids[0], ids[1]))
      const n = readDeltas(p, ids[0], ids[1], scratchIds)
      let any = false
      for (let i = 0; i < n && !any; i++) any = needed.has(scratchIds[i]!)
      if (!any) return
      readDeltas(p, lats[0], lats[1], scratchLat)
      readDeltas(p, lons[0], lons[1], scratchLon)
      for (let i = 0; i < n; i++) {
        const id = scratchIds[i]!
        if (needed.has(id)) found(id, this.lon(scratchLon[i]!), this.lat(scratchLat[i]!))
      }
    })
  }

  private eachElement(wanted: number, fn: (start: number, end: number) => void): void {
    const p = this.p
    for (const [gs, ge] of this.groups) {
      p.pos = gs
      while (p.pos < ge) {
        const key = p.readVarint()
        if (key >> 3 === wanted && (key & 7) === 2) {
          const [s, e] = lengthDelimited(p)
          fn(s, e)
          p.pos = e
        } else p.skip(key)
      }
    }
  }
}
