import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { DB } from '../../platform/db/schema.js'
import { roundCoordinate } from '../../platform/geo/lat-lon.js'
import { AppError } from '../../platform/http/errors.js'
import { cityView, findTenantCity } from '../cities/index.js'
import { attributionFields } from './attribution.js'
import { labelRu } from './labels.js'
import { categoryCounts, geojsonRows, type PoiDetailRow, searchPois } from './places.queries.js'
import { likeLiteral, normalizeSearchText } from './search-text.js'

/** The city if the calling app offers it; otherwise the same 404 as a city that does not exist. */
export async function tenantCityOr404(db: Kysely<DB>, tenantId: number, slug: string) {
  const city = await findTenantCity(db, tenantId, slug)
  if (!city) throw new AppError('CITY_NOT_FOUND', `Город «${slug}» не найден`)
  return city
}

export async function cityDetail(db: Kysely<DB>, tenantId: number, slug: string) {
  const city = await tenantCityOr404(db, tenantId, slug)
  const counts = await categoryCounts(db, city.id)
  return {
    ...cityView(city),
    poi_total: counts.reduce((n, c) => n + c.count, 0),
    poi_counts: counts.map((c) => ({ category: c.category, label_ru: labelRu(c.category), count: c.count })),
    ...attributionFields,
  }
}

export function poiDetailView(p: PoiDetailRow) {
  const wiki = p.wikipedia as { lang?: string; title?: string; url?: string } | null
  return {
    id: p.id,
    city: p.city_slug,
    name_ru: p.name_ru,
    category: p.category,
    category_label: labelRu(p.category),
    position: { lat: roundCoordinate(p.lat), lon: roundCoordinate(p.lon) },
    address: p.address,
    opening_hours: p.opening_hours,
    website: p.website,
    phone: p.phone,
    wikidata: p.wikidata ? { id: p.wikidata, url: `https://www.wikidata.org/wiki/${p.wikidata}` } : null,
    wikipedia:
      wiki?.lang && wiki.title && wiki.url ? { lang: wiki.lang, title: wiki.title, url: wiki.url } : null,
    heritage: p.heritage,
    sources: p.sources as Array<{
      type: 'osm'
      osm_type: 'node' | 'way' | 'relation'
      osm_id: number
      version: number | null
      timestamp: string | null
      url: string
    }>,
    license: p.license as 'ODbL-1.0',
    attribution: p.attribution as '© OpenStreetMap contributors',
  }
}

export async function search(
  db: Kysely<DB>,
  tenantId: number,
  q: { q: string; city?: string; limit: number },
) {
  const cityId = q.city ? (await tenantCityOr404(db, tenantId, q.city)).id : undefined
  const text = normalizeSearchText(q.q)
  const rows = await searchPois(db, {
    tenantId,
    ...(cityId !== undefined ? { cityId } : {}),
    text,
    like: likeLiteral(text),
    limit: q.limit,
  })
  return {
    items: rows.map((r) => ({
      id: r.id,
      name_ru: r.name_ru,
      category: r.category,
      category_label: labelRu(r.category),
      city: r.city_slug,
      lat: roundCoordinate(r.lat),
      lon: roundCoordinate(r.lon),
      score: r.score,
    })),
    ...attributionFields,
  }
}

/** The city's FeatureCollection as text and its strong ETag (a hash of exactly these bytes). */
export async function cityGeojson(db: Kysely<DB>, tenantId: number, slug: string) {
  const city = await tenantCityOr404(db, tenantId, slug)
  const rows = await geojsonRows(db, city.id)
  const body = JSON.stringify({
    type: 'FeatureCollection',
    ...attributionFields,
    features: rows.map((r) => ({
      type: 'Feature',
      id: r.id,
      geometry: { type: 'Point', coordinates: [roundCoordinate(r.lon), roundCoordinate(r.lat)] },
      properties: { id: r.id, name: r.name_ru, category: r.category },
    })),
  })
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`
  return { body, etag }
}

/** RFC 9110 If-None-Match: `*`, or a list of (possibly weak) tags compared weakly. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}
