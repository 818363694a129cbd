import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/**
 * Content-addressed blobs (basemaps, pack files): the port and its local-directory adapter, the
 * embedded default (ADR 014). A key is the sha256 hex of the bytes, so a blob never changes once
 * written and writing bytes already stored is a no-op. Production may put an S3-compatible adapter
 * behind the same port.
 */
export interface BlobStore {
  /** Stores bytes under their sha256 unless present; returns key and size. */
  putBytes(bytes: Buffer): Promise<{ sha256: string; bytes: number }>
  /** Stores a file (streamed, never loaded whole) under its sha256 unless present. */
  putFile(path: string): Promise<{ sha256: string; bytes: number }>
  /** A byte range (inclusive end) of a stored blob as a web stream. */
  read(sha256: string, range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array>>
  /** The blob's size, or null when it is not stored. */
  size(sha256: string): Promise<number | null>
  delete(sha256: string): Promise<void>
}

const KEY = /^[0-9a-f]{64}$/

export function localBlobStore(dir: string): BlobStore {
  const pathOf = (key: string) => {
    if (!KEY.test(key)) throw new Error(`invalid blob key ${key}`)
    return join(dir, key.slice(0, 2), key)
  }
  const size = async (key: string) => {
    const path = pathOf(key)
    try {
      return (await stat(path)).size
    } catch {
      return null
    }
  }
  // Written beside and renamed: a reader never sees half a blob under its final name.
  const place = async (key: string, write: (tmp: string) => Promise<void>) => {
    const path = pathOf(key)
    if ((await size(key)) !== null) return
    await mkdir(dirname(path), { recursive: true })
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
    try {
      await write(tmp)
      await rename(tmp, path)
    } finally {
      await rm(tmp, { force: true })
    }
  }
  return {
    async putBytes(bytes) {
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      await place(sha256, (tmp) => writeFile(tmp, bytes))
      return { sha256, bytes: bytes.length }
    },
    async putFile(path) {
      const hash = createHash('sha256')
      await pipeline(createReadStream(path), hash)
      const sha256 = hash.digest('hex')
      await place(sha256, (tmp) => copyFile(path, tmp))
      return { sha256, bytes: (await stat(path)).size }
    },
    async read(key, range) {
      const stream = createReadStream(pathOf(key), range ? { start: range.start, end: range.end } : {})
      return Readable.toWeb(stream) as ReadableStream<Uint8Array>
    },
    size,
    async delete(key) {
      await rm(pathOf(key), { force: true })
    },
  }
}
