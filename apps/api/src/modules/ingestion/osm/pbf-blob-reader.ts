import { promisify } from 'node:util'
import { inflate } from 'node:zlib'
import { PbfReader } from 'pbf'
import { OsmFormatError } from './osm-errors.js'

const inflateAsync = promisify(inflate)

/** Limits from the OSM PBF specification; larger values mean a corrupt length, not a big file. */
const MAX_BLOB_HEADER_BYTES = 64 * 1024
const MAX_BLOB_BYTES = 32 * 1024 * 1024

export interface RawPbfBlob {
  /** `OSMHeader` or `OSMData`; other types are allowed by the format and skipped by readers. */
  type: string
  /** The serialised `Blob` message, still compressed. */
  blob: Uint8Array
}

/** Splits a PBF byte stream into its length-prefixed blobs without decompressing them. */
export async function* readPbfBlobs(source: AsyncIterable<Uint8Array>): AsyncGenerator<RawPbfBlob> {
  const input = new ByteQueue(source[Symbol.asyncIterator]())
  let offset = 0
  for (;;) {
    const sizeBytes = await input.read(4, true)
    if (!sizeBytes) return
    const headerSize = new DataView(sizeBytes.buffer, sizeBytes.byteOffset, 4).getUint32(0)
    if (headerSize > MAX_BLOB_HEADER_BYTES) {
      throw new OsmFormatError(`not an OSM PBF file, or corrupt: blob header of ${headerSize} bytes at ${offset}`)
    }
    const header = decodeBlobHeader(await input.read(headerSize, false), offset)
    if (header.dataSize > MAX_BLOB_BYTES) {
      throw new OsmFormatError(`corrupt OSM PBF: blob of ${header.dataSize} bytes at ${offset}`)
    }
    yield { type: header.type, blob: await input.read(header.dataSize, false) }
    offset += 4 + headerSize + header.dataSize
  }
}

/** Inflates a `Blob` message. zlib runs on libuv's pool, so several can be in flight at once. */
export async function decompressBlob(blob: Uint8Array): Promise<Uint8Array> {
  let raw: Uint8Array | undefined
  let zlibData: Uint8Array | undefined
  let rawSize = -1
  let unsupported: string | undefined
  new PbfReader(blob).readFields((tag, _, pbf) => {
    if (tag === 1) raw = pbf.readBytes()
    else if (tag === 2) rawSize = pbf.readVarint()
    else if (tag === 3) zlibData = pbf.readBytes()
    else if (tag >= 4 && tag <= 7) unsupported = ['lzma', 'bzip2', 'lz4', 'zstd'][tag - 4]
  }, null)
  if (raw) return raw
  if (!zlibData) {
    throw new OsmFormatError(
      unsupported
        ? `OSM PBF blob compressed with ${unsupported}, which this reader does not support; re-encode with \`osmium cat -f pbf\` (zlib)`
        : 'OSM PBF blob carries no data',
    )
  }
  let data: Uint8Array
  try {
    data = await inflateAsync(zlibData)
  } catch (error) {
    throw new OsmFormatError('corrupt OSM PBF: a blob does not inflate', { cause: error })
  }
  if (rawSize >= 0 && data.length !== rawSize) {
    throw new OsmFormatError(`corrupt OSM PBF: blob inflated to ${data.length} bytes, header says ${rawSize}`)
  }
  return data
}

function decodeBlobHeader(bytes: Uint8Array, offset: number): { type: string; dataSize: number } {
  const header = { type: '', dataSize: -1 }
  new PbfReader(bytes).readFields((tag, h, pbf) => {
    if (tag === 1) h.type = pbf.readString()
    else if (tag === 3) h.dataSize = pbf.readVarint()
  }, header)
  if (!header.type || header.dataSize < 0) throw new OsmFormatError(`corrupt OSM PBF: bad blob header at ${offset}`)
  return header
}

/** Hands out exact byte counts from a stream of arbitrarily sized chunks, copying only across chunks. */
class ByteQueue {
  private chunks: Uint8Array[] = []
  private head = 0
  private available = 0

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  async read(size: number, endAllowed: true): Promise<Uint8Array | null>
  async read(size: number, endAllowed: false): Promise<Uint8Array>
  async read(size: number, endAllowed: boolean): Promise<Uint8Array | null> {
    while (this.available < size) {
      const next = await this.source.next()
      if (next.done) {
        if (endAllowed && this.available === 0) return null
        throw new OsmFormatError(`truncated OSM PBF: needed ${size} more bytes, the stream has ${this.available}`)
      }
      this.chunks.push(next.value)
      this.available += next.value.length
    }
    this.available -= size
    const first = this.chunks[0]!
    if (first.length - this.head >= size) {
      const out = first.subarray(this.head, this.head + size)
      this.advance(size)
      return out
    }
    const out = new Uint8Array(size)
    let filled = 0
    while (filled < size) {
      const chunk = this.chunks[0]!
      const take = Math.min(size - filled, chunk.length - this.head)
      out.set(chunk.subarray(this.head, this.head + take), filled)
      filled += take
      this.advance(take)
    }
    return out
  }

  private advance(size: number): void {
    this.head += size
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift()
      this.head = 0
    }
  }
}
