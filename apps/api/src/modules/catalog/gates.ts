import { isMostlyCyrillic } from '../ingestion/index.js'
import { type CityArea, inCityGate } from '../publishing/index.js'

/**
 * Publish gates for authored content: pure checks of a tour draft or a catalog item. Every gate runs
 * (no short-circuit) so an editor sees every failure at once, each naming its gate, stop and field,
 * with a reason in Russian.
 */

/** Licences a published medium may carry: open licences, or the tenant's own rights. */
export const CONTENT_LICENSES = ['CC-BY-4.0', 'CC-BY-SA-4.0', 'CC0-1.0', 'own'] as const
export const TRIGGER_RADIUS_M = { min: 10, max: 500 } as const
export const MIN_STOPS = 2

export type ContentGate =
  | 'ru_text'
  | 'media_license'
  | 'min_stops'
  | 'in_city'
  | 'poi_published'
  | 'trigger_radius'
  | 'has_tours'
  | 'tours_published'
  | 'product_ids'

export interface GateFailure {
  gate: ContentGate
  /** 1-based stop position, for stop-level failures. */
  stop?: number
  field: string
  reason: string
}

export interface MediaFacts {
  sha256: string
  author: string | null
  license: string | null
  source_url: string | null
}

export interface StopForGates {
  position: number
  title_ru: string
  narration_ru: string
  trigger_radius_m: number
  lat: number
  lon: number
  /** The referenced POI when the stop names one (null: an own position). */
  poi: { id: number; published: boolean; name_ru: string } | null
  image: MediaFacts | null
  audio: MediaFacts | null
}

export interface TourForGates {
  title_ru: string
  summary_ru: string
  description_ru: string
  cover: MediaFacts | null
  stops: StopForGates[]
}

function ruText(value: string, field: string, what: string, stop?: number): GateFailure[] {
  const text = value.trim()
  const at = stop !== undefined ? { stop } : {}
  if (!text) return [{ gate: 'ru_text', ...at, field, reason: `${what}: текст отсутствует` }]
  if (!isMostlyCyrillic(text))
    return [{ gate: 'ru_text', ...at, field, reason: `${what}: текст должен быть на русском языке` }]
  return []
}

export function mediaGate(m: MediaFacts | null, field: string, stop?: number): GateFailure[] {
  if (!m) return []
  const at = stop !== undefined ? { stop } : {}
  const out: GateFailure[] = []
  if (!m.author?.trim())
    out.push({
      gate: 'media_license',
      ...at,
      field,
      reason: `медиафайл ${m.sha256.slice(0, 12)}: не указан автор`,
    })
  if (!m.license || !(CONTENT_LICENSES as readonly string[]).includes(m.license))
    out.push({
      gate: 'media_license',
      ...at,
      field,
      reason: `медиафайл ${m.sha256.slice(0, 12)}: лицензия «${m.license ?? ''}» не разрешена (допустимы: ${CONTENT_LICENSES.join(', ')})`,
    })
  if (!m.source_url?.trim() || !/^https?:\/\/\S+$/.test(m.source_url))
    out.push({
      gate: 'media_license',
      ...at,
      field,
      reason: `медиафайл ${m.sha256.slice(0, 12)}: не указан источник (URL)`,
    })
  return out
}

export function stopGates(s: StopForGates, area: CityArea): GateFailure[] {
  const p = s.position
  const out: GateFailure[] = [
    ...ruText(s.title_ru, 'title_ru', `остановка ${p}, название`, p),
    ...ruText(s.narration_ru, 'narration_ru', `остановка ${p}, рассказ`, p),
  ]
  if (
    !Number.isInteger(s.trigger_radius_m) ||
    s.trigger_radius_m < TRIGGER_RADIUS_M.min ||
    s.trigger_radius_m > TRIGGER_RADIUS_M.max
  )
    out.push({
      gate: 'trigger_radius',
      stop: p,
      field: 'trigger_radius_m',
      reason: `остановка ${p}: радиус срабатывания ${s.trigger_radius_m} м вне диапазона ${TRIGGER_RADIUS_M.min}–${TRIGGER_RADIUS_M.max} м`,
    })
  if (!inCityGate({ lat: s.lat, lon: s.lon } as Parameters<typeof inCityGate>[0], area).passed)
    out.push({
      gate: 'in_city',
      stop: p,
      field: 'position',
      reason: `остановка ${p}: точка ${s.lat}, ${s.lon} за границей города`,
    })
  if (s.poi && !s.poi.published)
    out.push({
      gate: 'poi_published',
      stop: p,
      field: 'poi',
      reason: `остановка ${p}: объект «${s.poi.name_ru}» (id ${s.poi.id}) снят с публикации`,
    })
  out.push(...mediaGate(s.image, 'image', p), ...mediaGate(s.audio, 'audio', p))
  return out
}

export function tourGates(t: TourForGates, area: CityArea): GateFailure[] {
  const out: GateFailure[] = [
    ...ruText(t.title_ru, 'title_ru', 'название тура'),
    ...ruText(t.summary_ru, 'summary_ru', 'краткое описание тура'),
    ...ruText(t.description_ru, 'description_ru', 'описание тура'),
    ...mediaGate(t.cover, 'cover'),
  ]
  if (t.stops.length < MIN_STOPS)
    out.push({
      gate: 'min_stops',
      field: 'stops',
      reason: `в туре ${t.stops.length} остановок, нужно не меньше ${MIN_STOPS}`,
    })
  for (const s of t.stops) out.push(...stopGates(s, area))
  return out
}

export interface CatalogItemForGates {
  title_ru: string
  summary_ru: string
  paid: boolean
  cover: MediaFacts | null
  tours: Array<{ id: number; slug: string; published: boolean }>
  /** Every tenant offering the item, with its store product ids. */
  offers: Array<{ tenant: string; apple_product_id: string | null; rustore_product_id: string | null }>
}

export function catalogItemGates(item: CatalogItemForGates): GateFailure[] {
  const out: GateFailure[] = [
    ...ruText(item.title_ru, 'title_ru', 'название'),
    ...ruText(item.summary_ru, 'summary_ru', 'краткое описание'),
    ...mediaGate(item.cover, 'cover'),
  ]
  if (item.tours.length === 0)
    out.push({ gate: 'has_tours', field: 'tours', reason: 'в позиции каталога нет ни одного тура' })
  for (const t of item.tours)
    if (!t.published)
      out.push({ gate: 'tours_published', field: 'tours', reason: `тур «${t.slug}» не опубликован` })
  if (item.paid) {
    for (const o of item.offers) {
      if (!o.apple_product_id)
        out.push({
          gate: 'product_ids',
          field: `offers.${o.tenant}.apple`,
          reason: `платная позиция: для приложения «${o.tenant}» не указан идентификатор продукта App Store`,
        })
      if (!o.rustore_product_id)
        out.push({
          gate: 'product_ids',
          field: `offers.${o.tenant}.rustore`,
          reason: `платная позиция: для приложения «${o.tenant}» не указан идентификатор продукта RuStore`,
        })
    }
  }
  return out
}
