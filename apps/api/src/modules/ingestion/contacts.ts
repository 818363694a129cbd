import { cleanText } from './names.js'
import type { OsmTags } from './tag-selector.js'

function firstOf(tags: OsmTags, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = cleanText(tags[key])
    if (value !== null) return value
  }
  return null
}

/**
 * `website`, then `contact:website`, then `url`. Only the first of several `;`-separated values is
 * kept, a missing scheme gets `http://` (mappers often write «www.stsl.ru»), and anything that is
 * still not an http(s) URL is dropped: the apps open this link directly.
 */
export function pickWebsite(tags: OsmTags): string | null {
  const raw = firstOf(tags, ['website', 'contact:website', 'url'])
  if (raw === null) return null
  const first = raw.split(';')[0]!.trim()
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(first) ? first : `http://${first}`
  try {
    const url = new URL(withScheme)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
    if (!url.hostname.includes('.')) return null
    return url.toString()
  } catch {
    return null
  }
}

/** `phone`, then `contact:phone`, as written (several numbers stay `;`-separated for the apps). */
export function pickPhone(tags: OsmTags): string | null {
  return firstOf(tags, ['phone', 'contact:phone'])
}

export function pickOpeningHours(tags: OsmTags): string | null {
  return firstOf(tags, ['opening_hours'])
}

/** `brand` names the ATM or pharmacy chain visitors recognise; `operator` is the fallback. */
export function pickOperator(tags: OsmTags): string | null {
  return firstOf(tags, ['brand', 'operator'])
}
