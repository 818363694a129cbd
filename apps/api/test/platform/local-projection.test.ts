import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EARTH_RADIUS_M, greatCircleMeters } from '../../src/platform/geo/great-circle.js'
import type { LatLon, LatLonBox } from '../../src/platform/geo/lat-lon.js'
import { createLocalProjection } from '../../src/platform/geo/local-projection.js'

/** Moscow with New Moscow: the widest city we serve, so the largest over-fetch. */
const MOSCOW: LatLonBox = { minLat: 55.14, minLon: 36.8, maxLat: 56.02, maxLon: 37.97 }

const region = fc
  .record({
    lat: fc.double({ min: -70, max: 70, noNaN: true }),
    lon: fc.double({ min: -170, max: 170, noNaN: true }),
    dLat: fc.double({ min: 1e-4, max: 1.5, noNaN: true }),
    dLon: fc.double({ min: 1e-4, max: 3, noNaN: true }),
  })
  .map(({ lat, lon, dLat, dLon }) => ({ minLat: lat, minLon: lon, maxLat: lat + dLat, maxLon: lon + dLon }))

const fraction = fc.double({ min: 0, max: 1, noNaN: true })
const pointIn = (box: LatLonBox, u: number, v: number): LatLon => ({
  lat: box.minLat + u * (box.maxLat - box.minLat),
  lon: box.minLon + v * (box.maxLon - box.minLon),
})

function planarDistance(projection: ReturnType<typeof createLocalProjection>, a: LatLon, b: LatLon): number {
  const p = projection.project(a.lat, a.lon)
  const q = projection.project(b.lat, b.lon)
  return Math.hypot(p.x - q.x, p.y - q.y)
}

describe('greatCircleMeters', () => {
  it('matches known distances', () => {
    const kremlin = { lat: 55.752, lon: 37.6175 }
    const palaceSquare = { lat: 59.939, lon: 30.3158 }
    expect(greatCircleMeters(kremlin, palaceSquare) / 1000).toBeCloseTo(634.4, 0)
    expect(greatCircleMeters(kremlin, kremlin)).toBe(0)
    expect(greatCircleMeters({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(
      Math.PI * EARTH_RADIUS_M,
      3,
    )
    // One 1e-7° step of latitude, OSM's precision: about 1.1 cm, not lost to rounding.
    expect(greatCircleMeters(kremlin, { ...kremlin, lat: kremlin.lat + 1e-7 })).toBeCloseTo(0.0111, 4)
  })
})

describe('createLocalProjection: planar search with exact re-ranking misses nothing', () => {
  it('every pair inside the region lies within planarRadiusFor(its distance), and not below minMetersFor', () => {
    fc.assert(
      fc.property(region, fraction, fraction, fraction, fraction, fraction, (box, u1, v1, u2, v2, r) => {
        const projection = createLocalProjection(box, box.minLat + r * (box.maxLat - box.minLat))
        const a = pointIn(box, u1, v1)
        const b = pointIn(box, u2, v2)
        const planar = planarDistance(projection, a, b)
        const meters = greatCircleMeters(a, b)
        expect(planar).toBeLessThanOrEqual(projection.planarRadiusFor(meters))
        expect(projection.minMetersFor(planar)).toBeLessThanOrEqual(meters)
      }),
      { numRuns: 20_000 },
    )
  })

  it('holds for centimetre pairs, where rounding of the projected coordinates dominates', () => {
    fc.assert(
      fc.property(
        region,
        fraction,
        fraction,
        fc.integer({ min: -3, max: 3 }),
        fc.integer({ min: -3, max: 3 }),
        (box, u, v, i, j) => {
          const projection = createLocalProjection(box)
          const a = pointIn(box, u, v)
          const b = { lat: a.lat + i * 1e-7, lon: a.lon + j * 1e-7 }
          const planar = planarDistance(projection, a, b)
          const meters = greatCircleMeters(a, b)
          expect(planar).toBeLessThanOrEqual(projection.planarRadiusFor(meters))
          expect(projection.minMetersFor(planar)).toBeLessThanOrEqual(meters)
        },
      ),
      { numRuns: 5_000 },
    )
  })

  it('over-fetches a 1 km search over Moscow by under 2 %', () => {
    const projection = createLocalProjection(MOSCOW)
    const exactRadius = 1000 / ((EARTH_RADIUS_M * Math.PI) / 180)
    expect(projection.planarRadiusFor(1000) / exactRadius).toBeLessThan(1.02)
    expect(projection.planarRadiusFor(1000) / exactRadius).toBeGreaterThanOrEqual(1)
  })

  it('a KNN scan in planar order that stops on minMetersFor returns the brute-force nearest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fraction, fraction), { minLength: 1, maxLength: 300 }),
        fraction,
        fraction,
        fc.integer({ min: 1, max: 20 }),
        (cells, qu, qv, k) => {
          const projection = createLocalProjection(MOSCOW)
          const points = cells.map(([u, v]) => pointIn(MOSCOW, u, v))
          const query = pointIn(MOSCOW, qu, qv)
          // What SQL does: ORDER BY point <-> query, fetching rows until the bound says stop.
          const byPlanar = points
            .map((p, index) => ({ index, planar: planarDistance(projection, p, query) }))
            .sort((x, y) => x.planar - y.planar)
          const best: { index: number; meters: number }[] = []
          for (const { index, planar } of byPlanar) {
            if (best.length === k && projection.minMetersFor(planar) > best[k - 1]!.meters) break
            best.push({ index, meters: greatCircleMeters(points[index]!, query) })
            best.sort((x, y) => x.meters - y.meters || x.index - y.index)
            best.length = Math.min(best.length, k)
          }
          const brute = points
            .map((p, index) => ({ index, meters: greatCircleMeters(p, query) }))
            .sort((x, y) => x.meters - y.meters || x.index - y.index)
            .slice(0, k)
          expect(best.map((b) => b.meters)).toEqual(brute.map((b) => b.meters))
        },
      ),
      { numRuns: 500 },
    )
  })
})
