import { createHash } from 'node:crypto'

/**
 * JSON with object keys sorted at every depth, so that the same content always gives the same
 * string whatever order the tags were read in. `undefined` members are omitted as JSON.stringify
 * does; non-finite numbers are refused because they would silently become `null`.
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot hash a non-finite number: ${value}`)
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map((item) => stableStringify(item ?? null)).join(',')}]`
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>
    const members = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableStringify(record[key])}`)
    return `{${members.join(',')}}`
  }
  throw new TypeError(`cannot hash a value of type ${typeof value}`)
}

/** sha256 (hex) of the stable JSON form: equal content ⇔ equal hash, for change detection. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex')
}
