import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assembleRings,
  bboxContains,
  bboxOf,
  buildMultipolygon,
  pointInBoundary,
  pointInRing,
  ringAreaCentroid,
  ringsCentroid,
} from '../../src/modules/ingestion/osm/geometry.js'
import type { LonLat, Ring } from '../../src/modules/ingestion/osm/types.js'

const rect = (x0: number, y0: number, x1: number, y1: number): Ring => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
]

describe('assembleRings', () => {
  it('joins shuffled and reversed way segments into one closed ring', () => {
    const segments: LonLat[][] = [
      [
        [1, 0],
        [1, 1],
      ],
      [
        [0, 0],
        [1, 0],
      ],
      [
        [0, 0],
        [0, 1],
        [1, 1],
      ].reverse() as LonLat[],
    ]
    const { rings, open } = assembleRings(segments)
    expect(open).toBe(0)
    expect(rings).toHaveLength(1)
    const ring = rings[0]!
    expect(ring[0]).toEqual(ring[ring.length - 1])
    expect(new Set(ring.map((p) => p.join(',')))).toEqual(new Set(['0,0', '1,0', '1,1', '0,1']))
    expect(Math.abs(ringAreaCentroid(ring).area)).toBeCloseTo(1)
  })

  it('drops segments that never close and counts them', () => {
    const { rings, open } = assembleRings([
      rect(0, 0, 1, 1),
      [
        [5, 5],
        [6, 6],
      ],
    ])
    expect(rings).toHaveLength(1)
    expect(open).toBe(1)
  })
})

describe('centroid', () => {
  it('of a rectangle far from the origin is its middle', () => {
    const c = ringAreaCentroid(rect(37.5, 55.7, 37.7, 55.9))
    expect(c.lon).toBeCloseTo(37.6, 12)
    expect(c.lat).toBeCloseTo(55.8, 12)
  })

  it('weights several rings by area', () => {
    const c = ringsCentroid([rect(0, 0, 1, 1), rect(10, 0, 13, 1)])!
    expect(c[0]).toBeCloseTo((0.5 * 1 + 11.5 * 3) / 4)
  })

  it('is null for a degenerate ring', () => {
    expect(
      ringsCentroid([
        [
          [0, 0],
          [1, 1],
          [2, 2],
          [0, 0],
        ],
      ]),
    ).toBeNull()
  })

  it('of any convex polygon lies inside it', () => {
    const convex = fc.record({
      cx: fc.double({ min: -170, max: 170, noNaN: true }),
      cy: fc.double({ min: -80, max: 80, noNaN: true }),
      r: fc.double({ min: 1e-4, max: 5, noNaN: true }),
      // Points on a circle taken in angular order always make a convex polygon.
      angles: fc.uniqueArray(fc.integer({ min: 0, max: 359 }), { minLength: 3, maxLength: 30 }),
    })
    fc.assert(
      fc.property(convex, ({ cx, cy, r, angles }) => {
        const pts: LonLat[] = [...angles]
          .sort((a, b) => a - b)
          .map((a) => [cx + r * Math.cos((a * Math.PI) / 180), cy + r * Math.sin((a * Math.PI) / 180)])
        const ring: Ring = [...pts, pts[0]!]
        const c = ringsCentroid([ring])
        if (c === null) return true
        return pointInRing(c[0], c[1], ring)
      }),
    )
  })
})

describe('point in boundary', () => {
  const coord = fc.integer({ min: -1000, max: 1000 }).map((v) => v / 10 + 0.05)

  it('agrees with a brute-force test on rectangles with a hole', () => {
    fc.assert(
      fc.property(fc.tuple(coord, coord, coord, coord), fc.tuple(coord, coord), ([a, b, c, d], [x, y]) => {
        const [x0, x1] = [Math.min(a, c), Math.max(a, c)]
        const [y0, y1] = [Math.min(b, d), Math.max(b, d)]
        const [hx0, hx1, hy0, hy1] = [
          x0 + (x1 - x0) / 4,
          x1 - (x1 - x0) / 4,
          y0 + (y1 - y0) / 4,
          y1 - (y1 - y0) / 4,
        ]
        const boundary = [{ outer: rect(x0, y0, x1, y1), holes: [rect(hx0, hy0, hx1, hy1)] }]
        const strictlyIn = (p: number, lo: number, hi: number) => p > lo && p < hi
        const onEdge = [x0, x1, hx0, hx1].includes(x) || [y0, y1, hy0, hy1].includes(y)
        if (onEdge) return true
        const expected =
          strictlyIn(x, x0, x1) &&
          strictlyIn(y, y0, y1) &&
          !(strictlyIn(x, hx0, hx1) && strictlyIn(y, hy0, hy1))
        return pointInBoundary(x, y, boundary) === expected
      }),
    )
  })

  it('builds holes into the outer ring that contains them', () => {
    const b = buildMultipolygon([rect(0, 0, 10, 10), rect(20, 0, 30, 10)], [rect(22, 2, 24, 4)])!
    expect(b).toHaveLength(2)
    expect(pointInBoundary(23, 3, b)).toBe(false)
    expect(pointInBoundary(25, 5, b)).toBe(true)
    expect(pointInBoundary(5, 5, b)).toBe(true)
    expect(pointInBoundary(15, 5, b)).toBe(false)
  })

  it('bbox containment includes the edges', () => {
    const bbox = bboxOf(rect(37, 55, 38, 56))
    expect(bbox).toEqual({ minLon: 37, minLat: 55, maxLon: 38, maxLat: 56 })
    expect(bboxContains(bbox, 37, 55.5)).toBe(true)
    expect(bboxContains(bbox, 38.0001, 55.5)).toBe(false)
  })
})
