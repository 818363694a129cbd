import { cleanText } from './names.js'
import type { OsmTags } from './tag-selector.js'

export interface WikipediaLink {
  lang: string
  title: string
  url: string
}

const LANG = /^[a-z]{2,3}(?:-[a-z]+)*$/
const ARTICLE_URL = /^https?:\/\/([a-z]{2,3}(?:-[a-z]+)*)\.(?:m\.)?wikipedia\.org\/wiki\/(.+)$/i

function link(lang: string, rawTitle: string): WikipediaLink | null {
  // Titles arrive both as "Останкинская_телебашня" and "Останкинская телебашня": same article.
  const title = cleanText(rawTitle.replace(/_/g, ' '))
  if (title === null) return null
  const path = encodeURIComponent(title.replace(/ /g, '_')).replace(/%2F/g, '/').replace(/%3A/g, ':')
  return { lang, title, url: `https://${lang}.wikipedia.org/wiki/${path}` }
}

/** Reads `wikipedia=lang:Title` (also a pasted article URL). Anything else is not a usable link. */
function fromCurrentForm(value: string | undefined): WikipediaLink | null {
  const raw = cleanText(value)
  if (raw === null) return null
  const url = ARTICLE_URL.exec(raw)
  if (url) {
    let title = url[2]!
    try {
      title = decodeURIComponent(title)
    } catch {
      // A malformed escape is kept as written rather than dropping the link.
    }
    return link(url[1]!.toLowerCase(), title)
  }
  const colon = raw.indexOf(':')
  if (colon <= 0) return null
  const lang = raw.slice(0, colon).trim().toLowerCase()
  return LANG.test(lang) ? link(lang, raw.slice(colon + 1)) : null
}

/**
 * The Wikipedia article, preferring Russian: `wikipedia=ru:Title`, then the older
 * `wikipedia:ru=Title`, then `wikipedia=<other lang>:Title` (still a useful reference).
 */
export function pickWikipedia(tags: OsmTags): WikipediaLink | null {
  const current = fromCurrentForm(tags.wikipedia)
  if (current?.lang === 'ru') return current
  const oldRu = cleanText(tags['wikipedia:ru'])
  if (oldRu !== null) {
    // The value is a bare title; a pasted URL or a doubled "ru:" prefix is tolerated.
    const ru = ARTICLE_URL.test(oldRu) ? fromCurrentForm(oldRu) : link('ru', oldRu.replace(/^ru:/i, ''))
    if (ru !== null) return ru
  }
  return current
}
