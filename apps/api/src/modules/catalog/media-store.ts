import { createReadStream } from 'node:fs'
import { mkdir, rename, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'

/**
 * Where media bytes live: the port the catalog module owns, and its local-directory adapter (the
 * embedded default). Keys are sha256 hex, so a write of bytes already stored is a no-op and a file
 * never changes once written.
 */
export interface MediaStore {
  /** Stores the bytes under their key unless already present; returns the storage key. */
  put(sha256: string, bytes: Buffer): Promise<string>
  /** A byte range (inclusive end) of a stored medium as a web stream. */
  read(key: string, range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array>>
  exists(key: string): Promise<boolean>
}

export function localMediaStore(dir: string): MediaStore {
  const pathOf = (key: string) => {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`invalid media key ${key}`)
    return join(dir, key.slice(0, 2), key)
  }
  return {
    async put(sha256, bytes) {
      const path = pathOf(sha256)
      if (await exists(path)) return sha256
      await mkdir(dirname(path), { recursive: true })
      // Written beside and renamed: a reader never sees half a file under its final name.
      const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
      await writeFile(tmp, bytes)
      await rename(tmp, path)
      return sha256
    },
    async read(key, range) {
      const stream = createReadStream(pathOf(key), range ? { start: range.start, end: range.end } : {})
      return Readable.toWeb(stream) as ReadableStream<Uint8Array>
    },
    exists: (key) => exists(pathOf(key)),
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
