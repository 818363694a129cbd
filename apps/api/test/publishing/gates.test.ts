import { describe, expect, it } from 'vitest'
import {
  allPassed,
  type CityArea,
  evaluateGates,
  failureSummary,
  type GateInput,
} from '../../src/modules/publishing/gates.js'

const area: CityArea = { boundary: null, bbox: { minLon: 38, minLat: 56, maxLon: 38.5, maxLat: 56.5 } }
const square: CityArea = {
  boundary: [
    {
      outer: [
        [38.1, 56.3],
        [38.2, 56.3],
        [38.2, 56.4],
        [38.1, 56.4],
        [38.1, 56.3],
      ],
      holes: [],
    },
  ],
  bbox: { minLon: 38.1, minLat: 56.3, maxLon: 38.2, maxLat: 56.4 },
}

const good: GateInput = {
  osm_type: 'way',
  osm_id: 219706573,
  osm_version: 12,
  osm_timestamp: '2020-01-01T00:00:00Z',
  source_url: 'https://www.openstreetmap.org/way/219706573',
  license: 'ODbL-1.0',
  attribution: '© OpenStreetMap contributors',
  name_ru: 'Троице-Сергиева лавра',
  category: 'monastery',
  lat: 56.3107,
  lon: 38.1302,
  missing: false,
  review_state: null,
}

describe('publish gates', () => {
  it('a complete, Russian-named, public POI inside the city passes every gate', () => {
    const r = evaluateGates(good, area)
    expect(allPassed(r)).toBe(true)
    expect(r.in_city).toEqual({ passed: true, area: 'bbox' })
    expect(evaluateGates(good, square).in_city).toEqual({ passed: true, area: 'polygon' })
  })

  it.each([
    ['source', { osm_version: null, osm_timestamp: null }, /version nor timestamp/],
    ['source', { source_url: '' }, /no source URL/],
    ['source', { osm_type: 'area' }, /unknown OSM type/],
    ['license', { license: 'CC-BY-SA-2.0' }, /not allowed/],
    ['license', { attribution: '  ' }, /no attribution/],
    ['ru_name', { name_ru: null }, /no Russian name/],
    ['ru_name', { name_ru: 'Trinity Lavra' }, /not Cyrillic/],
    ['in_city', { lat: 55.75, lon: 37.6 }, /outside the city bbox/],
    ['category', { category: 'no-such-category' }, /unknown category/],
    ['present', { missing: true }, /missing from the latest/],
    [
      'review',
      { review_state: 'rejected', reviewed_by: 'ed', review_reason: 'дубликат' },
      /rejected by ed: дубликат/,
    ],
  ] as const)('gate %s fails with a reason (%o)', (gate, patch, reason) => {
    const r = evaluateGates({ ...good, ...patch } as GateInput, area)
    expect(r[gate].passed).toBe(false)
    expect(r[gate].reason).toMatch(reason)
    expect(allPassed(r)).toBe(false)
    expect(failureSummary(r)).toContain(`${gate}: `)
  })

  it('a position inside the bbox but outside the boundary polygon fails against the polygon', () => {
    const r = evaluateGates({ ...good, lat: 56.45, lon: 38.15 }, square)
    expect(r.in_city).toMatchObject({ passed: false, area: 'polygon' })
    expect(r.in_city.reason).toMatch(/outside the city boundary/)
  })

  it('a non-public category fails the category gate', () => {
    // Memorial plaques are staged but not shown to visitors.
    const r = evaluateGates({ ...good, category: 'plaque' }, area)
    expect(r.category).toEqual({ passed: false, reason: 'category "plaque" is not public' })
  })

  it('every gate is evaluated even when several fail', () => {
    const r = evaluateGates({ ...good, name_ru: null, license: 'x', missing: true }, area)
    expect(
      failureSummary(r)
        .split('; ')
        .map((s) => s.split(':')[0]),
    ).toEqual(['license', 'ru_name', 'present'])
  })
})
