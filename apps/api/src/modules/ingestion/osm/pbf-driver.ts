import type { OsmPassDriver } from './pass-driver.js'
import { type BlobRef, readPrimitiveBlocks } from './pbf-blobs.js'
import { HAS_NODES, HAS_WAYS, PrimitiveBlock } from './pbf-block.js'

/**
 * `.osm.pbf` passes. Pass 1 notes which blobs hold nodes or ways, so passes 2 and 3 read and inflate
 * only those blobs instead of the whole file again.
 */
export function pbfDriver(path: string): OsmPassDriver {
  const blobsWith = new Map<number, BlobRef[]>([
    [HAS_NODES, []],
    [HAS_WAYS, []],
  ])
  let scanned = false
  return {
    async *primary(opts, counts, sink) {
      const keyBytes = opts.keys ? opts.keys.map((k) => Buffer.from(k, 'utf8')) : null
      for await (const { ref, block } of readPrimitiveBlocks(path)) {
        const decoded = new PrimitiveBlock(block)
        decoded.primary(opts, keyBytes, counts, sink)
        for (const [flag, list] of blobsWith) if (decoded.kinds & flag) list.push(ref)
        yield
      }
      scanned = true
    },
    async wayRefs(needed, found) {
      if (needed.size === 0) return
      for await (const { block } of readPrimitiveBlocks(
        path,
        scanned ? blobsWith.get(HAS_WAYS) : undefined,
      )) {
        new PrimitiveBlock(block).wayRefs(needed, found)
      }
    },
    async nodeCoords(needed, found) {
      if (needed.size === 0) return
      for await (const { block } of readPrimitiveBlocks(
        path,
        scanned ? blobsWith.get(HAS_NODES) : undefined,
      )) {
        new PrimitiveBlock(block).nodeCoords(needed, found)
      }
    },
  }
}
