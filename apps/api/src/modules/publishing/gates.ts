import { POI_CATEGORIES } from '../ingestion/categories.js'
import { isMostlyCyrillic } from '../ingestion/names.js'
import { boundaryBBox, pointInBoundary } from '../ingestion/osm/geometry.js'
import type { BBox, Boundary } from '../ingestion/osm/types.js'

/**
 * The publish gates: pure checks of one staged POI. A POI reaches the apps only when every gate
 * passes; each failure says why, in words an editor can act on.
 */

export const ALLOWED_LICENSES: readonly string[] = ['ODbL-1.0']

export const GATE_NAMES = [
  'source',
  'license',
  'ru_name',
  'in_city',
  'category',
  'present',
  'review',
] as const
export type GateName = (typeof GATE_NAMES)[number]

export interface GateResult {
  passed: boolean
  reason?: string
  /** in_city only: what the position was tested against. */
  area?: 'polygon' | 'bbox'
}

export type GateResults = Record<GateName, GateResult>

/** The staged columns the gates read. */
export interface GateInput {
  osm_type: string
  osm_id: number
  osm_version: number | null
  osm_timestamp: Date | string | null
  source_url: string | null
  license: string | null
  attribution: string | null
  name_ru: string | null
  category: string
  lat: number
  lon: number
  /** Marked missing by the latest run that closed over the city. */
  missing: boolean
  review_state: string | null
  review_reason?: string | null
  reviewed_by?: string | null
}

/** The city area a POI must lie in: its boundary polygon when known, else its bbox (recorded as such). */
export interface CityArea {
  boundary: Boundary | null
  bbox: BBox
}

const OSM_TYPES = new Set(['node', 'way', 'relation'])
const PUBLIC_CATEGORIES = new Set(POI_CATEGORIES.filter((c) => c.public).map((c) => c.slug as string))
const KNOWN_CATEGORIES = new Set(POI_CATEGORIES.map((c) => c.slug as string))

const pass: GateResult = { passed: true }
const fail = (reason: string): GateResult => ({ passed: false, reason })

export function sourceGate(p: GateInput): GateResult {
  if (!OSM_TYPES.has(p.osm_type)) return fail(`unknown OSM type "${p.osm_type}"`)
  if (!Number.isSafeInteger(p.osm_id) || p.osm_id <= 0) return fail(`invalid OSM id ${p.osm_id}`)
  if (p.osm_version === null && p.osm_timestamp === null)
    return fail('neither OSM version nor timestamp recorded: the source cannot be pinned')
  if (!p.source_url || !/^https?:\/\/\S+$/.test(p.source_url)) return fail('no source URL')
  return pass
}

export function licenseGate(p: GateInput): GateResult {
  if (!p.license || !ALLOWED_LICENSES.includes(p.license))
    return fail(`licence "${p.license ?? ''}" is not allowed (allowed: ${ALLOWED_LICENSES.join(', ')})`)
  if (!p.attribution?.trim()) return fail('no attribution text')
  return pass
}

export function ruNameGate(p: GateInput): GateResult {
  const name = p.name_ru?.trim()
  if (!name) return fail('no Russian name (neither name:ru nor a Cyrillic name)')
  if (!isMostlyCyrillic(name)) return fail(`name "${name}" is not Cyrillic`)
  return pass
}

export function inCityGate(p: GateInput, area: CityArea): GateResult {
  if (area.boundary && area.boundary.length > 0) {
    return pointInBoundary(p.lon, p.lat, area.boundary)
      ? { passed: true, area: 'polygon' }
      : { passed: false, area: 'polygon', reason: `position ${p.lat}, ${p.lon} is outside the city boundary` }
  }
  const b = area.bbox
  const inside = p.lon >= b.minLon && p.lon <= b.maxLon && p.lat >= b.minLat && p.lat <= b.maxLat
  return inside
    ? { passed: true, area: 'bbox' }
    : {
        passed: false,
        area: 'bbox',
        reason: `position ${p.lat}, ${p.lon} is outside the city bbox (no boundary polygon)`,
      }
}

export function categoryGate(p: GateInput): GateResult {
  if (!KNOWN_CATEGORIES.has(p.category)) return fail(`unknown category "${p.category}"`)
  if (!PUBLIC_CATEGORIES.has(p.category)) return fail(`category "${p.category}" is not public`)
  return pass
}

export function presentGate(p: GateInput): GateResult {
  return p.missing ? fail('missing from the latest successful ingestion run') : pass
}

export function reviewGate(p: GateInput): GateResult {
  if (p.review_state !== 'rejected') return pass
  return fail(`rejected by ${p.reviewed_by ?? 'an editor'}: ${p.review_reason ?? 'no reason given'}`)
}

/** Every gate, always all of them (no short-circuit), so an editor sees every problem at once. */
export function evaluateGates(p: GateInput, area: CityArea): GateResults {
  return {
    source: sourceGate(p),
    license: licenseGate(p),
    ru_name: ruNameGate(p),
    in_city: inCityGate(p, area),
    category: categoryGate(p),
    present: presentGate(p),
    review: reviewGate(p),
  }
}

export function allPassed(results: GateResults): boolean {
  return GATE_NAMES.every((g) => results[g].passed)
}

/** One line naming every failed gate, stored as the reason a POI left publication. */
export function failureSummary(results: GateResults): string {
  return GATE_NAMES.filter((g) => !results[g].passed)
    .map((g) => `${g}: ${results[g].reason}`)
    .join('; ')
}

/** The area from a city row: the cached boundary if any, else its bbox. */
export function cityArea(city: {
  boundary: unknown
  bbox_min_lon: number
  bbox_min_lat: number
  bbox_max_lon: number
  bbox_max_lat: number
}): CityArea {
  const boundary =
    Array.isArray(city.boundary) && city.boundary.length > 0 ? (city.boundary as Boundary) : null
  return {
    boundary,
    bbox: boundary
      ? boundaryBBox(boundary)
      : {
          minLon: city.bbox_min_lon,
          minLat: city.bbox_min_lat,
          maxLon: city.bbox_max_lon,
          maxLat: city.bbox_max_lat,
        },
  }
}
