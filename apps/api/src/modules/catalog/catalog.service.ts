import type { Kysely } from 'kysely'
import type { ContentStatus, DB } from '../../platform/db/schema.js'
import { AppError, type FieldError } from '../../platform/http/errors.js'
import { findCityBySlug } from '../cities/index.js'
import { recordAudit } from './audit.js'
import { catalogItemGates, type MediaFacts } from './gates.js'
import { contentHash } from './route-line.js'
import { gateProblem, type SaveOutcome } from './tours.service.js'

/** A catalog item as an editor writes it: tours named by slug in the item's city, offers per tenant slug. */
export interface CatalogItemInput {
  slug: string
  city: string
  kind: 'tour' | 'bundle'
  title_ru: string
  summary_ru: string
  cover?: string | null | undefined
  paid: boolean
  tours: string[]
  offers: Record<string, { apple?: string | undefined; rustore?: string | undefined }>
}

/**
 * Creates or replaces a catalog item. Items have no versions: a changed item goes back to draft and
 * leaves the catalog until it is published again (the content import does both in one call).
 */
export async function saveCatalogItem(
  db: Kysely<DB>,
  input: CatalogItemInput,
  by: string,
): Promise<{ itemId: number; outcome: SaveOutcome }> {
  const city = await findCityBySlug(db, input.city)
  if (!city) throw new AppError('CITY_NOT_FOUND', `Город «${input.city}» не найден`)
  return db.transaction().execute(async (trx) => {
    const errors: FieldError[] = []
    if (input.kind === 'tour' && input.tours.length !== 1)
      errors.push({ path: 'body.tours', message: 'позиция вида tour содержит ровно один тур' })
    const tours = input.tours.length
      ? await trx
          .selectFrom('tour')
          .select(['id', 'slug'])
          .where('city_id', '=', city.id)
          .where('slug', 'in', input.tours)
          .execute()
      : []
    const tourIds = input.tours.map((slug, i) => {
      const t = tours.find((x) => x.slug === slug)
      if (!t) errors.push({ path: `body.tours.${i}`, message: `тур «${slug}» не найден в этом городе` })
      return Number(t?.id ?? 0)
    })
    const tenants = await trx.selectFrom('tenants').select(['id', 'slug']).execute()
    const offers = Object.entries(input.offers).map(([slug, o]) => {
      const t = tenants.find((x) => x.slug === slug)
      if (!t) errors.push({ path: `body.offers.${slug}`, message: `приложение «${slug}» не существует` })
      return {
        tenant_id: Number(t?.id ?? 0),
        apple_product_id: o.apple ?? null,
        rustore_product_id: o.rustore ?? null,
      }
    })
    if (input.cover) {
      const m = await trx
        .selectFrom('media')
        .select('kind')
        .where('sha256', '=', input.cover)
        .executeTakeFirst()
      if (m?.kind !== 'image')
        errors.push({ path: 'body.cover', message: `изображение ${input.cover} не загружено` })
    }
    if (errors.length) throw new AppError('VALIDATION_FAILED', 'Позиция каталога не прошла проверку', errors)
    const fields = {
      city_id: city.id,
      kind: input.kind,
      title_ru: input.title_ru,
      summary_ru: input.summary_ru,
      cover_sha256: input.cover ?? null,
      paid: input.paid,
    }
    const hash = contentHash({
      ...fields,
      tourIds,
      offers: [...offers].sort((a, b) => a.tenant_id - b.tenant_id),
    })
    const existing = await trx
      .selectFrom('catalog_item')
      .select(['id', 'content_hash'])
      .where('slug', '=', input.slug)
      .forUpdate()
      .executeTakeFirst()
    if (existing?.content_hash === hash) return { itemId: Number(existing.id), outcome: 'unchanged' as const }
    let itemId: number
    if (existing) {
      itemId = Number(existing.id)
      await trx
        .updateTable('catalog_item')
        .set({ ...fields, content_hash: hash, status: 'draft', updated_at: new Date() })
        .where('id', '=', itemId)
        .execute()
      await trx.deleteFrom('catalog_item_tour').where('item_id', '=', itemId).execute()
      await trx.deleteFrom('catalog_offer').where('item_id', '=', itemId).execute()
    } else {
      const row = await trx
        .insertInto('catalog_item')
        .values({ ...fields, slug: input.slug, content_hash: hash })
        .returning('id')
        .executeTakeFirstOrThrow()
      itemId = Number(row.id)
    }
    if (tourIds.length)
      await trx
        .insertInto('catalog_item_tour')
        .values(tourIds.map((tour_id, i) => ({ item_id: itemId, tour_id, position: i + 1 })))
        .execute()
    if (offers.length)
      await trx
        .insertInto('catalog_offer')
        .values(offers.map((o) => ({ ...o, item_id: itemId })))
        .execute()
    await recordAudit(trx, by, 'catalog_item', itemId, existing ? 'update' : 'create', { content_hash: hash })
    return { itemId, outcome: existing ? ('changed' as const) : ('created' as const) }
  })
}

export async function publishCatalogItem(
  db: Kysely<DB>,
  id: number,
  by: string,
): Promise<'published' | 'unchanged'> {
  return db.transaction().execute(async (trx) => {
    const item = await trx
      .selectFrom('catalog_item')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst()
    if (!item) throw new AppError('CATALOG_ITEM_NOT_FOUND', `Позиция каталога ${id} не найдена`)
    if (item.status === 'published') return 'unchanged' as const
    const tours = await trx
      .selectFrom('catalog_item_tour as it')
      .innerJoin('tour as t', 't.id', 'it.tour_id')
      .select(['t.id', 't.slug', 't.status'])
      .where('it.item_id', '=', id)
      .orderBy('it.position')
      .execute()
    const offers = await trx
      .selectFrom('catalog_offer as o')
      .innerJoin('tenants as t', 't.id', 'o.tenant_id')
      .select(['t.slug as tenant', 'o.apple_product_id', 'o.rustore_product_id'])
      .where('o.item_id', '=', id)
      .execute()
    const cover: MediaFacts | null = item.cover_sha256
      ? ((await trx
          .selectFrom('media')
          .select(['sha256', 'author', 'license', 'source_url'])
          .where('sha256', '=', item.cover_sha256)
          .executeTakeFirst()) ?? null)
      : null
    const failures = catalogItemGates({
      title_ru: item.title_ru,
      summary_ru: item.summary_ru,
      paid: item.paid,
      cover,
      tours: tours.map((t) => ({ id: Number(t.id), slug: t.slug, published: t.status === 'published' })),
      offers,
    })
    if (failures.length) throw gateProblem(failures)
    await trx
      .updateTable('catalog_item')
      .set({
        status: 'published',
        published_at: new Date(),
        unpublished_reason: null,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute()
    await recordAudit(trx, by, 'catalog_item', id, 'publish')
    return 'published' as const
  })
}

export async function unpublishCatalogItem(db: Kysely<DB>, id: number, reason: string, by: string) {
  await db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('catalog_item')
      .set({ status: 'unpublished', unpublished_reason: reason, updated_at: new Date() })
      .where('id', '=', id)
      .executeTakeFirst()
    if (!r.numUpdatedRows) throw new AppError('CATALOG_ITEM_NOT_FOUND', `Позиция каталога ${id} не найдена`)
    await recordAudit(trx, by, 'catalog_item', id, 'unpublish', { reason })
  })
}

export function listCatalogItems(
  db: Kysely<DB>,
  f: {
    city?: string | undefined
    status?: ContentStatus | undefined
    after?: number | undefined
    limit: number
  },
) {
  let q = db
    .selectFrom('catalog_item as i')
    .innerJoin('cities as c', 'c.id', 'i.city_id')
    .select([
      'i.id',
      'i.slug',
      'c.slug as city',
      'i.kind',
      'i.title_ru',
      'i.paid',
      'i.status',
      'i.unpublished_reason',
      'i.updated_at',
    ])
    .orderBy('i.id')
    .limit(f.limit + 1)
  if (f.city) q = q.where('c.slug', '=', f.city)
  if (f.status) q = q.where('i.status', '=', f.status)
  if (f.after !== undefined) q = q.where('i.id', '>', f.after)
  return q.execute()
}
