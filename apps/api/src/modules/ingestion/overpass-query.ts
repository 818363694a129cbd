import { type CategoryRule, HELPER_KIND_RULES, POI_CATEGORY_RULES } from './categories.js'
import type { TagSelector } from './tag-selector.js'

export interface OverpassQueryOptions {
  /** OSM id of the city's boundary relation. */
  relationId: number
  timeoutSeconds: number
  maxSizeBytes: number
  target: 'poi' | 'helpers'
}

/** Overpass derives an area from a relation by adding this offset to the relation id. */
export const OVERPASS_AREA_OFFSET = 3_600_000_000

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`)
  return value
}

/** Quotes a key or value for an Overpass tag filter. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

function anchoredAlternation(values: readonly string[]): string {
  return `^(${values.map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`
}

function valueFilter(key: string, values: readonly string[]): string {
  return values.length === 1
    ? `[${quote(key)}=${quote(values[0]!)}]`
    : `[${quote(key)}~${quote(anchoredAlternation(values))}]`
}

/** Every combination that picks one key from each `requireAny` group (OR inside a group). */
function requiredKeyCombinations(groups: readonly (readonly string[])[]): string[][] {
  let combinations: string[][] = [[]]
  for (const group of groups) {
    combinations = combinations.flatMap((combination) => group.map((key) => [...combination, key]))
  }
  return combinations
}

/** The filters of one selector, in Overpass QL; several when `requireAny` needs an OR. */
export function selectorFilters(selector: TagSelector): string[] {
  const primary =
    selector.values === undefined
      ? `[${quote(selector.key)}][${quote(selector.key)}!="no"]`
      : valueFilter(selector.key, selector.values)
  const withFilters = Object.entries(selector.with ?? {})
    .map(([key, values]) => valueFilter(key, values))
    .join('')
  // `!~` also matches objects without the key, which is what "absent or another value" means.
  const excludeFilters = Object.entries(selector.exclude ?? {})
    .map(([key, values]) => `[${quote(key)}!~${quote(anchoredAlternation(values))}]`)
    .join('')
  return requiredKeyCombinations(selector.requireAny ?? []).map(
    (keys) => `${primary}${withFilters}${keys.map((key) => `[${quote(key)}]`).join('')}${excludeFilters}`,
  )
}

/**
 * Selectors that differ only in their primary values (tourism=museum, tourism=gallery, ...) become
 * one regex filter: a shorter query and fewer passes over the area on the Overpass server.
 */
function mergeSelectors(rules: readonly CategoryRule[]): TagSelector[] {
  const merged = new Map<string, TagSelector>()
  for (const rule of rules) {
    for (const selector of rule.match) {
      const { values, ...rest } = selector
      const signature = JSON.stringify([values === undefined, rest])
      const known = merged.get(signature)
      if (known?.values && values) {
        merged.set(signature, { ...known, values: [...new Set([...known.values, ...values])] })
      } else if (!known) {
        merged.set(signature, selector)
      }
    }
  }
  const selectors = [...merged.values()]
  return selectors.filter((selector) => !selectors.some((other) => subsumes(other, selector)))
}

/**
 * `broad` already fetches everything `narrow` fetches: same key with any value, no extra value
 * conditions, the same name requirement and no exclusions (e.g. historic=* named covers
 * historic=monument named). Dropping `narrow` shortens the query without changing its result.
 */
function subsumes(broad: TagSelector, narrow: TagSelector): boolean {
  return (
    broad !== narrow &&
    broad.key === narrow.key &&
    broad.values === undefined &&
    narrow.values !== undefined &&
    broad.with === undefined &&
    broad.exclude === undefined &&
    JSON.stringify(broad.requireAny ?? []) === JSON.stringify(narrow.requireAny ?? [])
  )
}

/**
 * Overpass QL fetching every object of the table (POIs or helpers) inside a city's boundary.
 * `out center tags` gives ways and relations a centre point and skips their geometry.
 */
export function buildOverpassQuery(options: OverpassQueryOptions): string {
  const relationId = positiveInteger('relationId', options.relationId)
  const timeout = positiveInteger('timeoutSeconds', options.timeoutSeconds)
  const maxSize = positiveInteger('maxSizeBytes', options.maxSizeBytes)
  const rules = options.target === 'poi' ? POI_CATEGORY_RULES : HELPER_KIND_RULES
  const statements = mergeSelectors(rules)
    .flatMap(selectorFilters)
    .map((filters) => `  nwr(area.a)${filters};`)
  return [
    `[out:json][timeout:${timeout}][maxsize:${maxSize}];`,
    `area(id:${OVERPASS_AREA_OFFSET + relationId})->.a;`,
    '(',
    ...[...new Set(statements)],
    ');',
    'out center tags;',
    '',
  ].join('\n')
}

/** Overpass QL fetching the boundary relation itself with full member geometry. */
export function buildBoundaryQuery(relationId: number, timeoutSeconds = 60): string {
  const id = positiveInteger('relationId', relationId)
  const timeout = positiveInteger('timeoutSeconds', timeoutSeconds)
  return `[out:json][timeout:${timeout}];\nrel(${id});\nout geom;\n`
}
