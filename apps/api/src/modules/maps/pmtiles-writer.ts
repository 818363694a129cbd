import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'

/**
 * A PMTiles v3 writer (ADR 020): there is no maintained writer on npm, and the format is small.
 * Layout: 127-byte header, root directory, JSON metadata, leaf directories, tile data. Identical
 * tiles are stored once (sha256) and consecutive tile ids pointing at one content are one entry
 * with a run length. Directories and metadata are gzip-compressed; tiles are kept as given (the
 * caller says how they are compressed). When the root directory would not fit the first 16 KiB,
 * entries go to leaf directories and the root points at those.
 */

export interface PmtilesTile {
  z: number
  x: number
  /** XYZ row (0 at the top), not the TMS row MBTiles stores. */
  y: number
  data: Buffer
}

export interface PmtilesOptions {
  /** 1 none, 2 gzip (how `data` of every tile is compressed). */
  tileCompression: 1 | 2
  /** 1 = MVT. */
  tileType: 1
  /** [minLon, minLat, maxLon, maxLat]. */
  bounds: [number, number, number, number]
  center: [number, number, number]
  metadata: Record<string, unknown>
}

interface Entry {
  tileId: number
  offset: number
  length: number
  runLength: number
}

const HEADER_BYTES = 127
const ROOT_MAX_BYTES = 16_384 - HEADER_BYTES

/** Hilbert tile id of the spec: all tiles of lower zooms first, then the Hilbert index in z. */
export function zxyToTileId(z: number, x: number, y: number): number {
  if (z > 26) throw new Error('zoom above 26 is not supported')
  const n = 2 ** z
  if (x < 0 || y < 0 || x >= n || y >= n) throw new Error(`tile ${z}/${x}/${y} out of range`)
  let acc = (4 ** z - 1) / 3
  let tx = x
  let ty = y
  let d = 0
  for (let s = n / 2; s >= 1; s /= 2) {
    const rx = (tx & s) > 0 ? 1 : 0
    const ry = (ty & s) > 0 ? 1 : 0
    d += s * s * ((3 * rx) ^ ry)
    if (ry === 0) {
      if (rx === 1) {
        tx = n - 1 - tx
        ty = n - 1 - ty
      }
      const t = tx
      tx = ty
      ty = t
    }
  }
  acc += d
  return acc
}

function varint(out: number[], value: number): void {
  let v = value
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
}

function serializeDirectory(entries: Entry[]): Buffer {
  const out: number[] = []
  varint(out, entries.length)
  let last = 0
  for (const e of entries) {
    varint(out, e.tileId - last)
    last = e.tileId
  }
  for (const e of entries) varint(out, e.runLength)
  for (const e of entries) varint(out, e.length)
  entries.forEach((e, i) => {
    const prev = entries[i - 1]
    varint(out, i > 0 && prev && e.offset === prev.offset + prev.length ? 0 : e.offset + 1)
  })
  return gzipSync(Buffer.from(out))
}

/** Root (and leaf) directories: leaves of growing size until the root fits its 16 KiB. */
function directories(entries: Entry[]): { root: Buffer; leaves: Buffer } {
  const root = serializeDirectory(entries)
  if (root.length <= ROOT_MAX_BYTES) return { root, leaves: Buffer.alloc(0) }
  for (let leafSize = 4096; ; leafSize *= 2) {
    const rootEntries: Entry[] = []
    const leafParts: Buffer[] = []
    let offset = 0
    for (let i = 0; i < entries.length; i += leafSize) {
      const leaf = serializeDirectory(entries.slice(i, i + leafSize))
      rootEntries.push({ tileId: entries[i]!.tileId, offset, length: leaf.length, runLength: 0 })
      leafParts.push(leaf)
      offset += leaf.length
    }
    const r = serializeDirectory(rootEntries)
    if (r.length <= ROOT_MAX_BYTES) return { root: r, leaves: Buffer.concat(leafParts) }
  }
}

const e7 = (deg: number) => Math.round(deg * 1e7)

/** The whole archive as bytes (a city basemap is a few to tens of megabytes). */
export function writePmtiles(tiles: Iterable<PmtilesTile>, opts: PmtilesOptions): Buffer {
  const byId: Array<{ tileId: number; z: number; data: Buffer }> = []
  for (const t of tiles) byId.push({ tileId: zxyToTileId(t.z, t.x, t.y), z: t.z, data: t.data })
  if (byId.length === 0) throw new Error('no tiles to write')
  byId.sort((a, b) => a.tileId - b.tileId)

  const contents: Buffer[] = []
  const offsetOf = new Map<string, { offset: number; length: number }>()
  let dataBytes = 0
  const entries: Entry[] = []
  let minZoom = 99
  let maxZoom = 0
  for (const t of byId) {
    minZoom = Math.min(minZoom, t.z)
    maxZoom = Math.max(maxZoom, t.z)
    const hash = createHash('sha256').update(t.data).digest('hex')
    let at = offsetOf.get(hash)
    if (!at) {
      at = { offset: dataBytes, length: t.data.length }
      offsetOf.set(hash, at)
      contents.push(t.data)
      dataBytes += t.data.length
    }
    const last = entries[entries.length - 1]
    if (last && last.offset === at.offset && last.tileId + last.runLength === t.tileId) last.runLength += 1
    else entries.push({ tileId: t.tileId, offset: at.offset, length: at.length, runLength: 1 })
  }

  const { root, leaves } = directories(entries)
  const metadata = gzipSync(Buffer.from(JSON.stringify(opts.metadata)))
  const rootOffset = HEADER_BYTES
  const metadataOffset = rootOffset + root.length
  const leavesOffset = metadataOffset + metadata.length
  const dataOffset = leavesOffset + leaves.length

  const h = Buffer.alloc(HEADER_BYTES)
  h.write('PMTiles', 0, 'ascii')
  h.writeUInt8(3, 7)
  const u64 = (at: number, v: number) => h.writeBigUInt64LE(BigInt(v), at)
  u64(8, rootOffset)
  u64(16, root.length)
  u64(24, metadataOffset)
  u64(32, metadata.length)
  u64(40, leavesOffset)
  u64(48, leaves.length)
  u64(56, dataOffset)
  u64(64, dataBytes)
  u64(72, byId.length)
  u64(80, entries.length)
  u64(88, contents.length)
  h.writeUInt8(1, 96) // clustered: tile data is in tile-id order
  h.writeUInt8(2, 97) // internal compression: gzip
  h.writeUInt8(opts.tileCompression, 98)
  h.writeUInt8(opts.tileType, 99)
  h.writeUInt8(minZoom, 100)
  h.writeUInt8(maxZoom, 101)
  const [minLon, minLat, maxLon, maxLat] = opts.bounds
  h.writeInt32LE(e7(minLon), 102)
  h.writeInt32LE(e7(minLat), 106)
  h.writeInt32LE(e7(maxLon), 110)
  h.writeInt32LE(e7(maxLat), 114)
  h.writeUInt8(Math.min(Math.max(opts.center[2], minZoom), maxZoom), 118)
  h.writeInt32LE(e7(opts.center[0]), 119)
  h.writeInt32LE(e7(opts.center[1]), 123)
  return Buffer.concat([h, root, metadata, leaves, ...contents])
}
