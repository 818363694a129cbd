import type { Kysely } from 'kysely'
import type { DB } from '../../platform/db/schema.js'
import { roundCoordinate } from '../../platform/geo/lat-lon.js'
import { AppError } from '../../platform/http/errors.js'
import { tenantCityOr404 } from '../places/index.js'
import { type Access, itemAccess, tourAccess } from './access.js'

export const mediaUrl = (sha: string | null) => (sha ? `/v1/media/${sha}` : null)

/** The tenant's published catalog of a city, with each item's access and the platform's product id. */
export async function cityCatalog(
  db: Kysely<DB>,
  tenantId: number,
  slug: string,
  platform: 'ios' | 'android',
  owned: ReadonlySet<number>,
) {
  const city = await tenantCityOr404(db, tenantId, slug)
  const items = await db
    .selectFrom('catalog_item as i')
    .innerJoin('catalog_offer as o', (j) =>
      j.onRef('o.item_id', '=', 'i.id').on('o.tenant_id', '=', tenantId),
    )
    .select([
      'i.id',
      'i.slug',
      'i.kind',
      'i.title_ru',
      'i.summary_ru',
      'i.cover_sha256',
      'i.paid',
      'o.apple_product_id',
      'o.rustore_product_id',
    ])
    .where('i.city_id', '=', city.id)
    .where('i.status', '=', 'published')
    .orderBy('i.id')
    .execute()
  const tours = items.length
    ? await db
        .selectFrom('catalog_item_tour as it')
        .innerJoin('tour as t', 't.id', 'it.tour_id')
        .innerJoin('tour_version as v', 'v.id', 't.published_version_id')
        .select((eb) => [
          'it.item_id',
          't.id',
          'v.title_ru',
          'v.duration_min',
          'v.length_m',
          eb
            .selectFrom('tour_stop as s')
            .select((e) => e.fn.countAll<number>().as('n'))
            .whereRef('s.version_id', '=', 'v.id')
            .as('stop_count'),
        ])
        .where(
          'it.item_id',
          'in',
          items.map((i) => i.id),
        )
        .where('t.status', '=', 'published')
        .orderBy('it.item_id')
        .orderBy('it.position')
        .execute()
    : []
  return {
    city: city.slug,
    items: items.flatMap((i) => {
      const held = tours.filter((t) => t.item_id === i.id)
      if (held.length === 0) return []
      const productId = i.paid ? (platform === 'ios' ? i.apple_product_id : i.rustore_product_id) : null
      return [
        {
          id: Number(i.id),
          slug: i.slug,
          kind: i.kind,
          title_ru: i.title_ru,
          summary_ru: i.summary_ru,
          cover_url: mediaUrl(i.cover_sha256),
          access: itemAccess(i.paid, Number(i.id), owned),
          ...(productId ? { product_id: productId } : {}),
          tours: held.map((t) => ({
            id: Number(t.id),
            title_ru: t.title_ru,
            stop_count: Number(t.stop_count),
            duration_min: t.duration_min,
            length_m: t.length_m,
          })),
        },
      ]
    }),
  }
}

async function publicTour(db: Kysely<DB>, tenantId: number, id: number, owned: ReadonlySet<number>) {
  const access = (await tourAccess(db, tenantId, [id], owned)).get(id)
  // Not offered to this tenant is the same answer as not existing: no tenant learns another's tours.
  if (!access) throw new AppError('TOUR_NOT_FOUND', `Тур ${id} не найден`)
  const v = await db
    .selectFrom('tour as t')
    .innerJoin('tour_version as v', 'v.id', 't.published_version_id')
    .innerJoin('cities as c', 'c.id', 't.city_id')
    .select([
      't.id',
      't.slug',
      'c.slug as city',
      'v.id as version_id',
      'v.title_ru',
      'v.summary_ru',
      'v.description_ru',
      'v.cover_sha256',
      'v.duration_min',
      'v.length_m',
      'v.content_hash',
    ])
    .where('t.id', '=', id)
    .executeTakeFirstOrThrow()
  const stops = await db
    .selectFrom('tour_stop')
    .selectAll()
    .where('version_id', '=', v.version_id)
    .orderBy('position')
    .execute()
  return { access, v, stops }
}

/** The whole tour when free or owned; a preview (no description, narration of the first stop only) when locked. */
export async function tourDetail(db: Kysely<DB>, tenantId: number, id: number, owned: ReadonlySet<number>) {
  const { access, v, stops } = await publicTour(db, tenantId, id, owned)
  const open = access !== 'locked'
  return {
    id: Number(v.id),
    slug: v.slug,
    city: v.city,
    access,
    title_ru: v.title_ru,
    summary_ru: v.summary_ru,
    ...(open ? { description_ru: v.description_ru } : {}),
    cover_url: mediaUrl(v.cover_sha256),
    duration_min: v.duration_min,
    length_m: v.length_m,
    content_hash: v.content_hash,
    route: {
      type: 'LineString' as const,
      coordinates: stops.map((s) => [roundCoordinate(s.lon), roundCoordinate(s.lat)]),
    },
    stops: stops.map((s) => {
      const full = open || s.position === 1
      return {
        position: s.position,
        title_ru: s.title_ru,
        lat: roundCoordinate(s.lat),
        lon: roundCoordinate(s.lon),
        trigger_radius_m: s.trigger_radius_m,
        poi_id: s.poi_id === null ? null : Number(s.poi_id),
        locked: !full,
        ...(full
          ? {
              narration_ru: s.narration_ru,
              image_url: mediaUrl(s.image_sha256),
              audio_url: mediaUrl(s.audio_sha256),
            }
          : {}),
      }
    }),
  }
}

/** The route line and the stop points as a FeatureCollection for MapLibre; no narration, whatever the access. */
export async function tourGeojson(db: Kysely<DB>, tenantId: number, id: number, owned: ReadonlySet<number>) {
  const { access, v, stops } = await publicTour(db, tenantId, id, owned)
  return {
    type: 'FeatureCollection' as const,
    features: [
      {
        type: 'Feature' as const,
        geometry: {
          type: 'LineString' as const,
          coordinates: stops.map((s) => [roundCoordinate(s.lon), roundCoordinate(s.lat)]),
        },
        properties: {
          kind: 'route',
          tour_id: Number(v.id),
          title_ru: v.title_ru,
          access,
          length_m: v.length_m,
        } as Record<string, unknown>,
      },
      ...stops.map((s) => ({
        type: 'Feature' as const,
        geometry: { type: 'Point' as const, coordinates: [roundCoordinate(s.lon), roundCoordinate(s.lat)] },
        properties: {
          kind: 'stop',
          position: s.position,
          title_ru: s.title_ru,
          trigger_radius_m: s.trigger_radius_m,
        } as Record<string, unknown>,
      })),
    ],
  }
}

export type { Access }
