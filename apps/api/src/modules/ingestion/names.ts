import type { OsmTags } from './tag-selector.js'

export type NameSource = 'name:ru' | 'name'

// Zero-width characters and the BOM slip into OSM values through copy-paste and break equality.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/g
const LETTER = /\p{L}/gu
const CYRILLIC_LETTER = /\p{Script=Cyrillic}/gu

/** Trims, drops invisible characters and collapses every whitespace run (NBSP too) to one space. */
export function cleanText(value: string | undefined): string | null {
  if (value === undefined) return null
  const cleaned = value.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim()
  return cleaned === '' ? null : cleaned
}

/**
 * "Cyrillic" means: the text has at least one letter and strictly more than half of its letters
 * (Unicode \p{L}) are in the Cyrillic script. Digits, punctuation and spaces do not count, so
 * «Аптека №5» is Cyrillic, «DeVisu «У Шуховской башни»» is Cyrillic (6 Latin vs 15 Cyrillic
 * letters), and «A.V.E.» or «Shukhov Tower» are not.
 */
export function isMostlyCyrillic(text: string): boolean {
  const letters = text.match(LETTER)?.length ?? 0
  if (letters === 0) return false
  const cyrillic = text.match(CYRILLIC_LETTER)?.length ?? 0
  return cyrillic * 2 > letters
}

/**
 * The Russian name: `name:ru` when present (mappers put it there on purpose, whatever its script),
 * else `name` when it is Cyrillic, else none. A Latin `name` is not a Russian name: showing it would
 * break the RU-only promise, so the publish gate gets null and decides.
 */
export function pickRussianName(tags: OsmTags): { name_ru: string | null; name_source: NameSource | null } {
  const ru = cleanText(tags['name:ru'])
  if (ru !== null) return { name_ru: ru, name_source: 'name:ru' }
  const plain = cleanText(tags.name)
  if (plain !== null && isMostlyCyrillic(plain)) return { name_ru: plain, name_source: 'name' }
  return { name_ru: null, name_source: null }
}

// name, name:xx, alt_name, old_name:en, official_name, ... but not name:etymology* or *:wikidata,
// which hold references, not names.
const NAME_KEY = /^(?:name|[a-z_]+_name)(?::[A-Za-z_-]+)*$/
const NOT_A_NAME = /(?:^|:)(?:etymology|wikidata|wikipedia|pronunciation)(?::|$)/

export function isNameKey(key: string): boolean {
  return NAME_KEY.test(key) && !NOT_A_NAME.test(key)
}

/** Every name-like tag, cleaned, for search and for the record (keys sorted for stable output). */
export function collectNames(tags: OsmTags): Record<string, string> {
  const names: Record<string, string> = {}
  for (const key of Object.keys(tags).sort()) {
    if (!isNameKey(key)) continue
    const value = cleanText(tags[key])
    if (value !== null) names[key] = value
  }
  return names
}
