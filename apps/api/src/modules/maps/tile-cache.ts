import { gunzipSync } from 'node:zlib'
import { LRUCache } from 'lru-cache'

/**
 * The tile route's in-process cache (ADR 014): the stored archive is read once per tile per
 * process, never re-encoded. Two parts:
 *
 * - which build a city serves now, per app and city slug, kept `CURRENT_TTL_MS` (another process
 *   may publish; a request naming a newer version `?v=` than the one kept reloads at once, and a
 *   build in this process drops its city's entries);
 * - the tiles themselves, keyed by city, data version and z/x/y, so a new version never meets an
 *   old entry (old ones age out), bounded by bytes (`TILE_CACHE_MB`). Empty tiles are kept too.
 */

export const CURRENT_TTL_MS = 2_000

export interface ServedBuild {
  cityId: number
  buildId: number
  /** The data version tile URLs name (`?v=`). */
  version: string
  maxZoom: number
}

export interface CachedTile {
  gzip: Buffer
  sha256: string
}

const EMPTY = { empty: true } as const
type Entry = CachedTile | typeof EMPTY | { plain: Buffer }

export class TileCache {
  private readonly current = new LRUCache<string, ServedBuild>({ max: 10_000, ttl: CURRENT_TTL_MS })
  private readonly tiles: LRUCache<string, Entry> | null

  constructor(maxBytes: number) {
    this.tiles =
      maxBytes > 0
        ? new LRUCache<string, Entry>({
            maxSize: maxBytes,
            sizeCalculation: (e) => ('gzip' in e ? e.gzip.length : 'plain' in e ? e.plain.length : 0) + 64,
          })
        : null
  }

  /** The build the app's city serves; `load` (the database) when not kept, stale or older than `wanted`. */
  async build(
    tenantId: number,
    slug: string,
    wanted: string | undefined,
    load: () => Promise<ServedBuild>,
  ): Promise<ServedBuild> {
    const key = `${tenantId}|${slug}`
    const kept = this.current.get(key)
    if (kept && (wanted === undefined || wanted === kept.version)) return kept
    const fresh = await load()
    this.current.set(key, fresh)
    return fresh
  }

  /** A stored tile (gzip) of the build, or undefined for an empty one; `load` only on a miss. */
  async tile(
    build: ServedBuild,
    z: number,
    x: number,
    y: number,
    load: () => Promise<CachedTile | undefined>,
  ): Promise<CachedTile | undefined> {
    const key = `${build.cityId}|${build.version}|${z}/${x}/${y}`
    const kept = this.tiles?.get(key)
    if (kept) return 'gzip' in kept ? kept : undefined
    const tile = await load()
    this.tiles?.set(key, tile ? { gzip: tile.gzip, sha256: tile.sha256 } : EMPTY)
    return tile
  }

  /** The uncompressed MVT of a tile, for clients that do not accept gzip (kept beside it). */
  plain(build: ServedBuild, z: number, x: number, y: number, tile: CachedTile): Buffer {
    const key = `${build.cityId}|${build.version}|${z}/${x}/${y}|plain`
    const kept = this.tiles?.get(key)
    if (kept && 'plain' in kept) return kept.plain
    const plain = gunzipSync(tile.gzip)
    this.tiles?.set(key, { plain })
    return plain
  }

  /** A new build of the city in this process: its apps look it up again on their next request. */
  forgetCity(cityId: number): void {
    for (const [key, b] of this.current.entries()) if (b.cityId === cityId) this.current.delete(key)
  }
}

/** One cache per database handle (a process serves one database; tests build many). */
const caches = new WeakMap<object, TileCache>()

export function tileCacheOf(db: object, maxBytes: number): TileCache {
  let cache = caches.get(db)
  if (!cache) {
    cache = new TileCache(maxBytes)
    caches.set(db, cache)
  }
  return cache
}

/** Drops the city's "current build" entries wherever this process kept them for this database. */
export function forgetCityBuild(db: object, cityId: number): void {
  caches.get(db)?.forgetCity(cityId)
}
