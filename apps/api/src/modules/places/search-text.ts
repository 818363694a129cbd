/**
 * How names are compared in search: lower case, ё as е, runs of spaces as one. The database derives
 * `poi.search_name` the same way (`replace(lower(name_ru), 'ё', 'е')`), so query and column agree.
 */
export function normalizeSearchText(text: string): string {
  return text.toLowerCase().replaceAll('ё', 'е').replace(/\s+/g, ' ').trim()
}

/** A LIKE pattern that matches the text literally (its %, _ and \ escaped). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`)
}
