import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BlobStore, localBlobStore } from '../../src/platform/blobs/blob-store.js'

async function text(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(stream).arrayBuffer())
}

describe('local blob store', () => {
  let dir: string
  let store: BlobStore
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorod-blobs-'))
    store = localBlobStore(join(dir, 'blobs'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('keys bytes and files by their sha256, once; reads ranges; deletes', async () => {
    const bytes = randomBytes(100_000)
    const sha = createHash('sha256').update(bytes).digest('hex')
    expect(await store.putBytes(bytes)).toEqual({ sha256: sha, bytes: 100_000 })
    const file = join(dir, 'in.bin')
    await writeFile(file, bytes)
    expect(await store.putFile(file)).toEqual({ sha256: sha, bytes: 100_000 })
    expect(await store.size(sha)).toBe(100_000)
    expect(await text(await store.read(sha))).toEqual(bytes)
    expect(await text(await store.read(sha, { start: 10, end: 19 }))).toEqual(bytes.subarray(10, 20))
    // No temporary file is left beside the blob.
    expect(await readdir(join(dir, 'blobs', sha.slice(0, 2)))).toEqual([sha])
    await store.delete(sha)
    expect(await store.size(sha)).toBeNull()
    await expect(store.size('../etc/passwd')).rejects.toThrow(/invalid blob key/)
  })
})
