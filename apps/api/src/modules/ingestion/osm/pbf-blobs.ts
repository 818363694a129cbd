import { type FileHandle, open } from 'node:fs/promises'
import { promisify } from 'node:util'
import { inflate } from 'node:zlib'
import { PbfReader } from 'pbf'
import { OsmFormatError } from './osm-format-error.js'

const inflateAsync = promisify(inflate)

/** Where one data blob sits in the file, so later passes can read just the blobs they need. */
export interface BlobRef {
  /** Byte offset of the serialized Blob message (after its header). */
  offset: number
  size: number
}

/** PBF caps a header at 64 KiB and a blob at 32 MiB; larger values mean a corrupt or non-PBF file. */
const MAX_HEADER = 64 * 1024
const MAX_BLOB = 32 * 1024 * 1024

async function readExactly(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length)
  let got = 0
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got)
    if (bytesRead === 0)
      throw new OsmFormatError(`truncated PBF: wanted ${length} bytes at ${position}, file ended`)
    got += bytesRead
  }
  return buf
}

/** Lists the OSMData blobs of a file (the OSMHeader blob is checked for unsupported features). */
async function* scanBlobs(fh: FileHandle): AsyncGenerator<BlobRef & { type: string }> {
  const { size: fileSize } = await fh.stat()
  let pos = 0
  while (pos < fileSize) {
    const headerLength = (await readExactly(fh, pos, 4)).readUInt32BE(0)
    if (headerLength === 0 || headerLength > MAX_HEADER)
      throw new OsmFormatError(`bad PBF blob header length at ${pos}`)
    const header = new PbfReader(await readExactly(fh, pos + 4, headerLength))
    let type = ''
    let dataSize = -1
    while (header.pos < header.length) {
      const key = header.readVarint()
      if (key >> 3 === 1) type = header.readString()
      else if (key >> 3 === 3) dataSize = header.readVarint()
      else header.skip(key)
    }
    if (dataSize < 0 || dataSize > MAX_BLOB) throw new OsmFormatError(`bad PBF blob size at ${pos}`)
    const offset = pos + 4 + headerLength
    if (offset + dataSize > fileSize) throw new OsmFormatError('truncated PBF: last blob is cut off')
    yield { type, offset, size: dataSize }
    pos = offset + dataSize
  }
}

/** Unwraps a Blob message: raw or zlib (the two every writer we meet uses). */
async function unpackBlob(blob: Buffer): Promise<Buffer> {
  const pbf = new PbfReader(blob)
  while (pbf.pos < pbf.length) {
    const key = pbf.readVarint()
    const field = key >> 3
    if (field === 1) return Buffer.from(pbf.readBytes())
    if (field === 3) {
      const bytes = pbf.readBytes()
      return inflateAsync(bytes)
    }
    if (field === 4 || field === 5 || field === 6 || field === 7) {
      throw new OsmFormatError(`unsupported PBF blob compression (field ${field})`)
    }
    pbf.skip(key)
  }
  throw new OsmFormatError('PBF blob holds no data')
}

/**
 * HistoricalInformation is left out on purpose: a history file holds every version of an object,
 * deleted ones included, and reading it as current data would ingest them all.
 */
const SUPPORTED_FEATURES = new Set(['OsmSchema-V0.6', 'DenseNodes', 'Sort.Type_then_ID'])

function checkHeader(block: Buffer): void {
  const pbf = new PbfReader(block)
  while (pbf.pos < pbf.length) {
    const key = pbf.readVarint()
    if (key >> 3 === 4) {
      const feature = pbf.readString()
      if (!SUPPORTED_FEATURES.has(feature))
        throw new OsmFormatError(`PBF requires unsupported feature ${feature}`)
    } else pbf.skip(key)
  }
}

/** How many blobs are read and inflated ahead: inflation runs on the libuv pool while we decode. */
const PREFETCH = 4

/**
 * Yields the decompressed PrimitiveBlocks of a PBF file in file order, each with its BlobRef.
 * `only` restricts the read to known blobs (later passes); otherwise the whole file is scanned.
 */
export async function* readPrimitiveBlocks(
  path: string,
  only?: readonly BlobRef[],
): AsyncGenerator<{ ref: BlobRef; block: Buffer }> {
  const fh = await open(path, 'r')
  try {
    const pending: Promise<{ ref: BlobRef; block: Buffer }>[] = []
    const load = (ref: BlobRef) =>
      readExactly(fh, ref.offset, ref.size)
        .then(unpackBlob)
        .then((block) => ({ ref, block }))
    // Avoid unhandled rejections of prefetched blobs when an earlier one fails.
    const enqueue = (ref: BlobRef) => {
      const p = load(ref)
      p.catch(() => {})
      pending.push(p)
    }
    const refs: AsyncIterable<BlobRef> | Iterable<BlobRef> = only ?? dataBlobs(fh)
    for await (const ref of refs) {
      enqueue(ref)
      if (pending.length >= PREFETCH) yield await pending.shift()!
    }
    while (pending.length > 0) yield await pending.shift()!
  } finally {
    await fh.close()
  }
}

async function* dataBlobs(fh: FileHandle): AsyncGenerator<BlobRef> {
  let sawHeader = false
  for await (const blob of scanBlobs(fh)) {
    if (blob.type === 'OSMHeader') {
      checkHeader(await unpackBlob(await readExactly(fh, blob.offset, blob.size)))
      sawHeader = true
    } else if (blob.type === 'OSMData') {
      if (!sawHeader) throw new OsmFormatError('PBF data before its OSMHeader')
      yield { offset: blob.offset, size: blob.size }
    }
  }
  if (!sawHeader) throw new OsmFormatError('empty PBF: no OSMHeader')
}
