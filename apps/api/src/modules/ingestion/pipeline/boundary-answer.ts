import { buildMultipolygon } from '../osm/geometry.js'
import type { Boundary, LonLat } from '../osm/types.js'

export interface BoundaryRelation {
  id: number
  tags: Record<string, string>
  /** Null when the member ways do not close into rings. */
  boundary: Boundary | null
}

interface GeomMember {
  type?: string
  role?: string
  geometry?: Array<{ lat?: number; lon?: number } | null>
}

/**
 * The relation `relationId` from an Overpass `out geom` answer: its tags and its outer/inner member
 * ways assembled into a multipolygon. Null when the answer does not hold that relation.
 */
export function parseBoundaryAnswer(answer: unknown, relationId: number): BoundaryRelation | null {
  const elements = (answer as { elements?: unknown })?.elements
  if (!Array.isArray(elements)) throw new SyntaxError('not an Overpass answer: no elements array')
  const rel = elements.find(
    (e): e is { id: number; tags?: Record<string, string>; members?: GeomMember[] } =>
      typeof e === 'object' && e !== null && e.type === 'relation' && e.id === relationId,
  )
  if (!rel) return null
  const outer: LonLat[][] = []
  const inner: LonLat[][] = []
  for (const m of rel.members ?? []) {
    if (m.type !== 'way' || !Array.isArray(m.geometry)) continue
    // Overpass writes null for member nodes outside the data it has; such a way cannot close a ring.
    const line = m.geometry.flatMap((p): LonLat[] =>
      p && typeof p.lon === 'number' && typeof p.lat === 'number' ? [[p.lon, p.lat]] : [],
    )
    if (line.length < 2) continue
    if (m.role === 'inner') inner.push(line)
    else if (m.role === 'outer' || m.role === '') outer.push(line)
  }
  return { id: rel.id, tags: rel.tags ?? {}, boundary: buildMultipolygon(outer, inner) }
}

function comparable(text: string): string {
  return text
    .toLocaleLowerCase('ru')
    .replace(/ё/g, 'е')
    .replace(/[\s\u00a0-]+/g, ' ')
    .trim()
}

/**
 * Whether a boundary relation is the city's: its `name` or `name:ru` and the city's Russian name
 * contain one another, ignoring case and ё/е ("Сергиев Посад" matches "городское поселение Сергиев
 * Посад"); or every word of the city's name begins a word of the relation's, which is how Russian
 * names an area after its town ("Сергиево-Посадский городской округ", the seeded relation of
 * Сергиев Посад) while a region's adjective stays apart ("Московская область" is not "Москва").
 * A relation without any name cannot be checked, so it does not match.
 */
export function boundaryNameMatches(tags: Record<string, string>, cityNameRu: string): boolean {
  const city = comparable(cityNameRu)
  if (!city) return false
  const cityWords = city.split(' ')
  return [tags.name, tags['name:ru']].some((raw) => {
    if (!raw) return false
    const name = comparable(raw)
    if (!name) return false
    if (name.includes(city) || city.includes(name)) return true
    const words = name.split(' ')
    return cityWords.every((w) => w.length >= 3 && words.some((n) => n.startsWith(w)))
  })
}
