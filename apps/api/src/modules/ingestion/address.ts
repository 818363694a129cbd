import { cleanText } from './names.js'
import type { OsmTags } from './tag-selector.js'

export interface PostalAddress {
  street: string | null
  housenumber: string | null
  city: string | null
  postcode: string | null
  /** Russian one-line form: «улица Шаболовка, 21 с1, Москва, 115162». */
  line_ru: string
}

/**
 * addr:* → a structured address. Villages and dachas often have `addr:place` instead of a street,
 * so it stands in for the street. Null when nothing addressable is tagged.
 */
export function pickAddress(tags: OsmTags): PostalAddress | null {
  const street = cleanText(tags['addr:street']) ?? cleanText(tags['addr:place'])
  const housenumber = cleanText(tags['addr:housenumber'])
  const city = cleanText(tags['addr:city'])
  const postcode = cleanText(tags['addr:postcode'])
  if (street === null && housenumber === null && city === null && postcode === null) return null
  // Street and house first, then the city, then the postcode: how Russian addresses are read aloud
  // and printed on signs; the postcode trails because visitors rarely need it.
  const streetPart = [street, housenumber].filter((part) => part !== null).join(', ')
  const line_ru = [streetPart, city, postcode].filter((part) => part !== null && part !== '').join(', ')
  return { street, housenumber, city, postcode, line_ru }
}
