import { buildTilePyramid, type MapPoint } from '../apps/api/src/modules/maps/tile-pyramid.js'
import { round } from './lib/service.js'

/** Deterministic points in a Moscow-sized box (a linear congruential generator, no Math.random). */
function points(n: number, seed: number): MapPoint[] {
  let s = seed
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return s / 2 ** 31
  }
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `Место ${i + 1}`,
    tag: 'museum',
    lon: 37.35 + next() * 0.5,
    lat: 55.57 + next() * 0.35,
  }))
}

/**
 * Tile archive build (supercluster + vt-pbf + gzip, z0–14, both layers) for synthetic cities of
 * growing size: build time, tile count and archive size. Pure CPU: no database, no HTTP.
 */
export async function run() {
  const out: Record<string, unknown> = {}
  for (const [pois, helpers] of [
    [5_000, 2_000],
    [50_000, 10_000],
  ] as const) {
    const p = points(pois, 1)
    const h = points(helpers, 2)
    buildTilePyramid(p.slice(0, 500), h.slice(0, 200)) // warm the JIT
    const started = performance.now()
    const tiles = buildTilePyramid(p, h)
    const ms = performance.now() - started
    out[`${pois} pois + ${helpers} helpers`] = {
      build_ms: round(ms),
      tiles: tiles.length,
      archive_gzip_mb: round(tiles.reduce((n, t) => n + t.gzip.length, 0) / 1e6),
    }
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
