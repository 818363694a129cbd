import type { OsmElement, OsmReadOptions } from './osm-element.js'
import { OsmFormatError } from './osm-errors.js'
import { decompressBlob, readPbfBlobs } from './pbf-blob-reader.js'
import { decodeHeaderBlock, decodePrimitiveBlock } from './pbf-block-decoder.js'

/** Blobs inflating on the thread pool while the current one is decoded on the main thread. */
const INFLATE_AHEAD = 4

/** Streams an OSM PBF file as one batch of elements per data block (about 8 000 elements each). */
export async function* readOsmPbf(
  source: AsyncIterable<Uint8Array>,
  options: OsmReadOptions = {},
): AsyncGenerator<OsmElement[]> {
  const inflating: Promise<{ type: string; data: Uint8Array }>[] = []
  let sawHeader = false

  async function* decoded(): AsyncGenerator<OsmElement[]> {
    const { type, data } = await inflating.shift()!
    if (type === 'OSMHeader') {
      if (sawHeader) throw new OsmFormatError('OSM PBF has a second OSMHeader block')
      sawHeader = true
      options.onHeader?.(decodeHeaderBlock(data))
    } else if (type === 'OSMData') {
      if (!sawHeader) throw new OsmFormatError('OSM PBF data block before the OSMHeader block')
      const elements = decodePrimitiveBlock(data, options)
      if (elements.length > 0) yield elements
    }
  }

  for await (const { type, blob } of readPbfBlobs(source)) {
    const pending = decompressBlob(blob).then((data) => ({ type, data }))
    // Its error is awaited in order below; this only keeps an early failure from being "unhandled".
    pending.catch(() => {})
    inflating.push(pending)
    if (inflating.length >= INFLATE_AHEAD) yield* decoded()
  }
  while (inflating.length > 0) yield* decoded()
  if (!sawHeader) throw new OsmFormatError('empty OSM PBF: no OSMHeader block')
}
