import { describe, expect, it } from 'vitest'
import { HELPER_KIND_RULES, POI_CATEGORY_RULES } from '../../src/modules/ingestion/categories.js'
import { buildBoundaryQuery, buildOverpassQuery } from '../../src/modules/ingestion/overpass-query.js'
import type { TagSelector } from '../../src/modules/ingestion/tag-selector.js'

/**
 * A tiny interpreter for the tag filters the builder emits (`["k"]`, `["k"="v"]`, `["k"!="v"]`,
 * `["k"~"re"]`, `["k"!~"re"]`) with Overpass semantics: negations also match a missing key.
 * It lets the test ask "would Overpass return this object?" instead of comparing strings.
 */
function statementFilters(query: string): ((tags: Record<string, string>) => boolean)[] {
  const statements = query.split('\n').filter((line) => line.trim().startsWith('nwr(area.a)'))
  return statements.map((statement) => {
    const filters = [...statement.matchAll(/\["((?:[^"\\]|\\.)*)"(?:(!?[=~])"((?:[^"\\]|\\.)*)")?\]/g)]
    expect(filters.length, statement).toBeGreaterThan(0)
    return (tags) =>
      filters.every(([, rawKey, op, rawValue]) => {
        const key = rawKey!.replace(/\\(.)/g, '$1')
        const actual = tags[key]
        if (op === undefined) return actual !== undefined
        const value = rawValue!.replace(/\\\\/g, '\\').replace(/\\"/g, '"')
        const hit =
          actual !== undefined && (op.endsWith('~') ? new RegExp(value).test(actual) : actual === value)
        return op.startsWith('!') ? !hit : hit
      })
  })
}

function fetched(query: string, tags: Record<string, string>): boolean {
  return statementFilters(query).some((matches) => matches(tags))
}

/** Every object shape a selector accepts, one per value and per alternative required key. */
function examples(selector: TagSelector): Record<string, string>[] {
  const base: Record<string, string> = {}
  for (const [key, values] of Object.entries(selector.with ?? {})) base[key] = values[0]!
  let variants = (selector.values ?? ['yes']).map((value) => ({ ...base, [selector.key]: value }))
  for (const group of selector.requireAny ?? []) {
    variants = variants.flatMap((tags) => group.map((key) => ({ ...tags, [key]: 'Пример' })))
  }
  return variants
}

const options = { relationId: 171922, timeoutSeconds: 180, maxSizeBytes: 512 * 1024 * 1024 }

describe('buildOverpassQuery', () => {
  it('targets the area of the boundary relation and asks for centres and tags', () => {
    const query = buildOverpassQuery({ ...options, target: 'poi' })
    expect(query.startsWith('[out:json][timeout:180][maxsize:536870912];\n')).toBe(true)
    expect(query).toContain('area(id:3600171922)->.a;')
    expect(query.trimEnd().endsWith('out center tags;')).toBe(true)
  })

  for (const [target, rules] of [
    ['poi', POI_CATEGORY_RULES],
    ['helpers', HELPER_KIND_RULES],
  ] as const) {
    it(`${target}: fetches an example of every category/kind in the table`, () => {
      const query = buildOverpassQuery({ ...options, target })
      for (const rule of rules) {
        for (const selector of rule.match) {
          for (const tags of examples(selector))
            expect(fetched(query, tags), `${rule.slug} ${JSON.stringify(tags)}`).toBe(true)
        }
      }
    })

    it(`${target}: does not fetch what the table excludes`, () => {
      const query = buildOverpassQuery({ ...options, target })
      for (const rule of rules) {
        for (const selector of rule.match) {
          for (const [key, banned] of Object.entries(selector.exclude ?? {})) {
            const [tags] = examples(selector)
            expect(fetched(query, { ...tags!, [key]: banned[0]! }), `${rule.slug} ${key}`).toBe(false)
          }
        }
      }
    })
  }

  it('does not fetch everyday objects of the other target or of neither', () => {
    const poi = buildOverpassQuery({ ...options, target: 'poi' })
    const helpers = buildOverpassQuery({ ...options, target: 'helpers' })
    expect(fetched(poi, { amenity: 'pharmacy', name: 'Живика' })).toBe(false)
    expect(fetched(helpers, { tourism: 'museum', name: 'Музей' })).toBe(false)
    for (const query of [poi, helpers]) {
      expect(fetched(query, { amenity: 'bench' })).toBe(false)
      expect(fetched(query, { historic: 'memorial' })).toBe(false) // unnamed
    }
  })

  it('rejects ids and limits that would produce a broken query', () => {
    expect(() => buildOverpassQuery({ ...options, relationId: -1, target: 'poi' })).toThrow(RangeError)
    expect(() => buildOverpassQuery({ ...options, timeoutSeconds: 1.5, target: 'poi' })).toThrow(RangeError)
  })
})

describe('buildBoundaryQuery', () => {
  it('fetches the relation with its geometry', () => {
    const query = buildBoundaryQuery(102269)
    expect(query).toContain('[out:json]')
    expect(query).toContain('rel(102269);')
    expect(query).toContain('out geom;')
  })
})
