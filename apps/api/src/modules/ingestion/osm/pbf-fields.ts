import type { PbfReader } from 'pbf'

/** Low-level readers for PBF messages, positioned by offsets so nothing is copied out of the block. */

/** Decodes a packed delta-coded sint64 field at [start, end) into `out`; returns the count. */
export function readDeltas(
  p: PbfReader,
  start: number,
  end: number,
  out: Float64Array,
  limit = Infinity,
): number {
  p.pos = start
  let acc = 0
  let n = 0
  while (p.pos < end && n < limit) {
    acc += p.readSVarint()
    out[n++] = acc
  }
  return n
}

export function countVarints(buf: Uint8Array, start: number, end: number): number {
  let n = 0
  for (let i = start; i < end; i++) if (buf[i]! < 0x80) n++
  return n
}

/** Position of a length-delimited field's payload: [start, end). */
export function lengthDelimited(p: PbfReader): [number, number] {
  const len = p.readVarint()
  const start = p.pos
  p.pos += len
  return [start, start + len]
}

export interface ElementFields {
  id: number
  keys: [number, number]
  vals: [number, number]
  info: [number, number]
  refs: [number, number]
  roles: [number, number]
  memids: [number, number]
  types: [number, number]
  lat: number
  lon: number
}

/** Field positions of a Node, Way or Relation message (their field numbers do not collide in use). */
export function fieldsOf(p: PbfReader, start: number, end: number): ElementFields {
  const none: [number, number] = [0, 0]
  const f: ElementFields = {
    id: 0,
    keys: none,
    vals: none,
    info: none,
    refs: none,
    roles: none,
    memids: none,
    types: none,
    lat: 0,
    lon: 0,
  }
  p.pos = start
  let isNode = false
  while (p.pos < end) {
    const key = p.readVarint()
    const field = key >> 3
    const wire = key & 7
    if (field === 1) {
      // Node ids are sint64, way and relation ids int64: told apart by the lat/lon fields below.
      f.id = p.readVarint(true)
    } else if (field === 2) f.keys = lengthDelimited(p)
    else if (field === 3) f.vals = lengthDelimited(p)
    else if (field === 4) f.info = lengthDelimited(p)
    else if (field === 8 && wire === 0) {
      isNode = true
      f.lat = p.readSVarint()
    } else if (field === 9 && wire === 0) f.lon = p.readSVarint()
    else if (field === 8) {
      f.refs = lengthDelimited(p)
      f.roles = f.refs
    } else if (field === 9) f.memids = lengthDelimited(p)
    else if (field === 10) f.types = lengthDelimited(p)
    else p.skip(key)
  }
  if (isNode) f.id = f.id % 2 === 1 ? (f.id + 1) / -2 : f.id / 2
  return f
}

export function readDeltaList(p: PbfReader, [start, end]: [number, number]): number[] {
  const out: number[] = []
  let acc = 0
  p.pos = start
  while (p.pos < end) {
    acc += p.readSVarint()
    out.push(acc)
  }
  return out
}
