import { HELPER_KINDS, POI_CATEGORIES } from '../ingestion/categories.js'

const LABELS = new Map<string, string>([
  ...POI_CATEGORIES.map((c) => [c.slug, c.label_ru] as const),
  ...HELPER_KINDS.map((k) => [k.slug, k.label_ru] as const),
])

export const PUBLIC_POI_CATEGORIES: readonly string[] = POI_CATEGORIES.filter((c) => c.public).map(
  (c) => c.slug,
)
export const PUBLIC_HELPER_KINDS: readonly string[] = HELPER_KINDS.filter((k) => k.public).map((k) => k.slug)

/** The Russian label of a POI category or helper kind (the slug itself if the table lost it). */
export function labelRu(slug: string): string {
  return LABELS.get(slug) ?? slug
}
