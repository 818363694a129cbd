import type { RouteHandler } from '@hono/zod-openapi'
import type { ContentStatus } from '../../platform/db/schema.js'
import { actingOperator } from '../../platform/http/admin-auth.js'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { decodeIdCursor, encodeIdCursor } from '../../platform/http/id-cursor.js'
import type {
  enqueueContentImportRoute,
  listItemsRoute,
  listToursRoute,
  publishItemRoute,
  publishTourRoute,
  putItemRoute,
  putTourRoute,
  unpublishItemRoute,
  unpublishTourRoute,
  uploadMediaRoute,
} from './admin.routes.js'
import {
  listCatalogItems,
  publishCatalogItem,
  saveCatalogItem,
  unpublishCatalogItem,
} from './catalog.service.js'
import { contentCities } from './content-import.js'
import { enqueueContentImport } from './content-import-job.js'
import { storeMedia } from './media.service.js'
import { localMediaStore } from './media-store.js'
import { mediaUrl } from './public.service.js'
import { listTours, publishTour, saveTourDraft, unpublishTour } from './tours.service.js'

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

type ListQuery = {
  city?: string | undefined
  status?: ContentStatus | undefined
  cursor?: string
  limit: number
}

/**
 * One page of a content list (tours or catalog items): the filters and cursor handed to the query,
 * one row more than the page asked for to know whether another page follows.
 */
async function listPage<T extends { id: number | string }>(
  q: ListQuery,
  query: (f: {
    city?: string | undefined
    status?: ContentStatus | undefined
    after?: number | undefined
    limit: number
  }) => Promise<T[]>,
) {
  const rows = await query({
    city: q.city,
    status: q.status,
    after: q.cursor ? decodeIdCursor(q.cursor) : undefined,
    limit: q.limit,
  })
  const items = rows.slice(0, q.limit)
  const last = items[items.length - 1]
  return { items, next_cursor: rows.length > q.limit && last ? encodeIdCursor(Number(last.id)) : null }
}

export const putTourHandler: RouteHandler<typeof putTourRoute, AppEnv> = async (c) => {
  const { city, slug } = c.req.valid('param')
  const { by, ...draft } = c.req.valid('json')
  const r = await saveTourDraft(c.var.deps.database.db, { ...draft, city, slug }, actingOperator(c, by))
  return c.json({ id: r.tourId, outcome: r.outcome }, 200)
}

export const listToursHandler: RouteHandler<typeof listToursRoute, AppEnv> = async (c) => {
  const p = await listPage(c.req.valid('query'), (f) => listTours(c.var.deps.database.db, f))
  return c.json(
    {
      next_cursor: p.next_cursor,
      items: p.items.map((r) => ({
        id: Number(r.id),
        city: r.city,
        slug: r.slug,
        status: r.status,
        draft: r.draft_number !== null ? { number: r.draft_number, title_ru: r.draft_title ?? '' } : null,
        published:
          r.published_number !== null
            ? {
                number: r.published_number,
                title_ru: r.published_title ?? '',
                content_hash: r.published_hash ?? '',
              }
            : null,
        unpublished_reason: r.unpublished_reason,
        review: r.review_reason
          ? { reason: r.review_reason, flagged_at: iso(r.review_flagged_at) ?? '' }
          : null,
        updated_at: iso(r.updated_at) ?? '',
      })),
    },
    200,
  )
}

export const publishTourHandler: RouteHandler<typeof publishTourRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const { by } = c.req.valid('json')
  const r = await publishTour(c.var.deps.database.db, id, actingOperator(c, by), {
    fourEyes: c.var.deps.config.adminFourEyes,
  })
  return c.json({ id, status: 'published' as const, outcome: r.outcome }, 200)
}

export const unpublishTourHandler: RouteHandler<typeof unpublishTourRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const { by, reason } = c.req.valid('json') as { by?: string; reason: string }
  await unpublishTour(c.var.deps.database.db, id, reason, actingOperator(c, by))
  return c.json({ id, status: 'unpublished' as const, outcome: 'unpublished' as const }, 200)
}

export const putItemHandler: RouteHandler<typeof putItemRoute, AppEnv> = async (c) => {
  const { slug } = c.req.valid('param')
  const { by, ...item } = c.req.valid('json')
  const r = await saveCatalogItem(c.var.deps.database.db, { ...item, slug }, actingOperator(c, by))
  return c.json({ id: r.itemId, outcome: r.outcome }, 200)
}

export const listItemsHandler: RouteHandler<typeof listItemsRoute, AppEnv> = async (c) => {
  const p = await listPage(c.req.valid('query'), (f) => listCatalogItems(c.var.deps.database.db, f))
  return c.json(
    {
      next_cursor: p.next_cursor,
      items: p.items.map((r) => ({ ...r, id: Number(r.id), updated_at: iso(r.updated_at) ?? '' })),
    },
    200,
  )
}

export const publishItemHandler: RouteHandler<typeof publishItemRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const { by } = c.req.valid('json')
  const outcome = await publishCatalogItem(c.var.deps.database.db, id, actingOperator(c, by))
  return c.json({ id, status: 'published' as const, outcome }, 200)
}

export const unpublishItemHandler: RouteHandler<typeof unpublishItemRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const { by, reason } = c.req.valid('json') as { by?: string; reason: string }
  await unpublishCatalogItem(c.var.deps.database.db, id, reason, actingOperator(c, by))
  return c.json({ id, status: 'unpublished' as const, outcome: 'unpublished' as const }, 200)
}

export const uploadMediaHandler: RouteHandler<typeof uploadMediaRoute, AppEnv> = async (c) => {
  const q = c.req.valid('query')
  const bytes = Buffer.from(await c.req.arrayBuffer())
  if (bytes.length === 0) throw new AppError('MEDIA_REJECTED', 'Пустое тело: передайте байты файла')
  const { media, created } = await storeMedia(
    c.var.deps.database.db,
    localMediaStore(c.var.deps.config.content.mediaDir),
    c.var.deps.config.content,
    bytes,
    { author: q.author, license: q.license, source_url: q.source_url },
    actingOperator(c, q.by),
  )
  return c.json(
    {
      sha256: media.sha256,
      kind: media.kind,
      mime: media.mime,
      bytes: Number(media.bytes),
      width: media.width,
      height: media.height,
      duration_ms: media.duration_ms,
      author: media.author,
      license: media.license,
      source_url: media.source_url,
      url: mediaUrl(media.sha256) ?? '',
      created,
    },
    200,
  )
}

export const enqueueContentImportHandler: RouteHandler<typeof enqueueContentImportRoute, AppEnv> = async (
  c,
) => {
  const { city } = c.req.valid('param')
  const body = (c.req.valid('json') as { date?: string } | undefined) ?? {}
  const { deps } = c.var
  if (!(await contentCities(deps.config.content.contentDir)).includes(city))
    throw new AppError('CONTENT_NOT_FOUND', `Для города «${city}» нет файлов контента`)
  const { run, deduplicated } = await enqueueContentImport(
    { ...deps, jobs: deps.jobs ?? null },
    { city, ...(body.date ? { date: body.date } : {}), trigger: 'admin' },
  )
  c.header('Location', `/v1/jobs/${run.id}`)
  if (deduplicated) c.header('Idempotent-Replayed', 'true')
  return c.json(
    {
      job_id: run.id,
      status: run.status,
      type: 'content_import' as const,
      city: run.city_slug ?? city,
      idempotency_key: run.idempotency_key,
      deduplicated,
    },
    202,
  )
}
