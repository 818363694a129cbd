import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { readWithPasses } from './multipass-reader.js'
import { readOverpassJson } from './overpass-json-reader.js'
import { pbfDriver } from './pbf-driver.js'
import type { OsmFileFormat, OsmReadOptions, OsmReadResult } from './types.js'
import { xmlDriver } from './xml-driver.js'

/**
 * Tells the format from the first bytes, the file name only breaking ties: a `.osm` saved from an
 * HTTP body may really be gzip or JSON.
 */
export async function detectOsmFormat(path: string): Promise<OsmFileFormat> {
  const fh = await open(path, 'r')
  const head = Buffer.alloc(64)
  let n: number
  try {
    ;({ bytesRead: n } = await fh.read(head, 0, head.length, 0))
  } finally {
    await fh.close()
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'xml-gz'
  // A PBF starts with a 4-byte big-endian header length, then the BlobHeader's `type` field.
  if (n >= 6 && head[0] === 0 && head[4] === 0x0a && head.subarray(6, 15).toString('latin1') === 'OSMHeader')
    return 'pbf'
  const text = head
    .subarray(0, n)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
  if (text.startsWith('<')) return 'xml'
  if (text.startsWith('{')) return 'overpass-json'
  if (path.endsWith('.pbf')) return 'pbf'
  throw new Error(`cannot tell the OSM format of ${path}`)
}

/**
 * Reads one OSM file (PBF, XML, gzipped XML or Overpass JSON) as a stream of features:
 *
 *   const read = await readOsmFile(path, { keep: isAttraction, boundaryRelationId: 102269 })
 *   for await (const feature of read) ...
 *   read.stats(); read.boundary()
 *
 * Files are read in several passes (see `readWithPasses`), so the path must stay readable until the
 * iteration ends. Any error (truncation, malformed data, an Overpass failure remark) rejects the
 * iteration; features yielded before it must then be treated as an incomplete run.
 */
export async function readOsmFile(
  path: string,
  opts: OsmReadOptions,
  format?: OsmFileFormat,
): Promise<OsmReadResult> {
  const kind = format ?? (await detectOsmFormat(path))
  switch (kind) {
    case 'pbf':
      return readWithPasses(pbfDriver(path), opts)
    case 'xml':
      return readWithPasses(
        xmlDriver(() => createReadStream(path)),
        opts,
      )
    case 'xml-gz':
      return readWithPasses(
        xmlDriver(() => gunzipped(path)),
        opts,
      )
    case 'overpass-json':
      return readOverpassJson(createReadStream(path), opts)
  }
}

/** Gunzip errors (a cut-off file) must reach the parser's loop, which pipe() alone would not do. */
function gunzipped(path: string): Readable {
  const source = createReadStream(path)
  const gunzip = createGunzip()
  source.on('error', (err) => gunzip.destroy(err))
  return source.pipe(gunzip)
}

/**
 * A single-use stream (e.g. an HTTP body) can be read in one pass only, which is all Overpass JSON
 * needs; XML and PBF need their passes, so save such bodies to a file and use `readOsmFile`.
 */
export function readOverpassStream(stream: Readable, opts: OsmReadOptions): OsmReadResult {
  return readOverpassJson(stream, opts)
}
