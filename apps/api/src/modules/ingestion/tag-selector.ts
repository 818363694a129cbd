/** OSM tags of one element: key → value, as read from a file or an Overpass response. */
export type OsmTags = Readonly<Record<string, string>>

/**
 * A declarative tag filter. It is deliberately small, so that the same value both classifies
 * objects in memory and is translated one-to-one into Overpass QL filters (`overpass-query.ts`):
 * whatever the query fetches is exactly what the classifier can accept.
 */
export interface TagSelector {
  /** The primary key, e.g. `tourism`. */
  readonly key: string
  /** Accepted values of `key`; absent means "any value except `no`". */
  readonly values?: readonly string[]
  /** Other keys that must carry one of the listed values, e.g. `{ memorial: ['plaque'] }`. */
  readonly with?: Readonly<Record<string, readonly string[]>>
  /** Each group is satisfied when at least ONE of its keys is present (any value except `no`). */
  readonly requireAny?: readonly (readonly string[])[]
  /** The key must be absent or carry a value outside the list (e.g. access=private/no). */
  readonly exclude?: Readonly<Record<string, readonly string[]>>
}

/** Keys whose presence makes an object "named" for the rules that demand a name. */
export const NAME_KEYS: readonly string[] = ['name', 'name:ru']

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== 'no'
}

export function matchesSelector(tags: OsmTags, selector: TagSelector): boolean {
  const value = tags[selector.key]
  if (selector.values === undefined) {
    if (!present(value)) return false
  } else if (value === undefined || !selector.values.includes(value)) {
    return false
  }
  if (selector.with) {
    for (const [key, wanted] of Object.entries(selector.with)) {
      const other = tags[key]
      if (other === undefined || !wanted.includes(other)) return false
    }
  }
  if (selector.requireAny) {
    for (const group of selector.requireAny) {
      if (!group.some((key) => present(tags[key]))) return false
    }
  }
  if (selector.exclude) {
    for (const [key, banned] of Object.entries(selector.exclude)) {
      const other = tags[key]
      if (other !== undefined && banned.includes(other)) return false
    }
  }
  return true
}
