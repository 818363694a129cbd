import { createHash } from 'node:crypto'
import { greatCircleMeters } from '../../platform/geo/great-circle.js'

/** Length of the walk through the stops in order, in whole metres (straight legs). */
export function routeLengthMeters(stops: ReadonlyArray<{ lat: number; lon: number }>): number {
  let total = 0
  for (let i = 1; i < stops.length; i++) total += greatCircleMeters(stops[i - 1]!, stops[i]!)
  return Math.round(total)
}

/** sha256 of the JSON of a value with object keys sorted: equal content, equal hash. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(value ?? null)
}
