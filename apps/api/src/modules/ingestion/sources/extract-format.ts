import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'

export type ExtractFormat = 'pbf' | 'xml' | 'xml.gz'

const HEAD_BYTES = 1_024
/** The PBF format caps a BlobHeader at 64 KiB; a larger "length" means this is not a PBF. */
const MAX_BLOB_HEADER = 64 * 1024

/**
 * Names the OSM format of a file from its first bytes, or null when it is none of them (an HTML
 * error page served with 200, an archive of something else).
 */
export async function detectExtractFormat(path: string): Promise<ExtractFormat | null> {
  const head = await readHead(path)
  if (head[0] === 0x1f && head[1] === 0x8b) return isOsmXml(await gunzippedHead(path)) ? 'xml.gz' : null
  if (isPbf(head)) return 'pbf'
  return isOsmXml(head) ? 'xml' : null
}

function isPbf(head: Buffer): boolean {
  if (head.length < 8) return false
  const len = head.readUInt32BE(0)
  if (len === 0 || len > MAX_BLOB_HEADER) return false
  // BlobHeader field 1 (type) comes first: 0x0a, its length, then "OSMHeader" for the first blob.
  return head.subarray(4, 4 + Math.min(len, head.length - 4)).includes('OSMHeader')
}

function isOsmXml(head: Buffer): boolean {
  let text = head.toString('utf8').replace(/^\uFEFF/, '')
  // Skip the declaration and comments: what matters is that the root element is <osm>.
  text = text.replace(/^\s*<\?xml[^>]*\?>/, '').replace(/^(\s*<!--[\s\S]*?-->)*/, '')
  return /^\s*<osm[\s>]/.test(text)
}

async function readHead(path: string): Promise<Buffer> {
  const file = await open(path, 'r')
  try {
    const buf = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await file.read(buf, 0, HEAD_BYTES, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}

/** The first decompressed bytes of a gzip file, reading only as much of it as that takes. */
async function gunzippedHead(path: string): Promise<Buffer> {
  const source = createReadStream(path)
  const gunzip = createGunzip()
  const parts: Buffer[] = []
  let n = 0
  try {
    for await (const chunk of source.pipe(gunzip)) {
      parts.push(chunk as Buffer)
      n += (chunk as Buffer).length
      if (n >= HEAD_BYTES) break
    }
  } catch {
    // Corrupt or truncated gzip: whatever decompressed before the error is judged on its own.
  } finally {
    source.destroy()
    gunzip.destroy()
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES)
}
