import type { Kysely, Transaction } from 'kysely'
import type { ContentStatus, DB } from '../../platform/db/schema.js'
import { AppError, type FieldError } from '../../platform/http/errors.js'
import { findCityBySlug } from '../cities/index.js'
import { cityArea } from '../publishing/index.js'
import { recordAudit } from './audit.js'
import { type GateFailure, type MediaFacts, tourGates } from './gates.js'
import { contentHash, routeLengthMeters } from './route-line.js'

/** A tour draft as an editor writes it (admin API body or a content file). */
export interface TourDraftInput {
  city: string
  slug: string
  title_ru: string
  summary_ru: string
  description_ru: string
  cover?: string | null | undefined
  duration_min: number
  stops: Array<{
    poi_id?: number | undefined
    lat?: number | undefined
    lon?: number | undefined
    title_ru?: string | undefined
    narration_ru: string
    trigger_radius_m: number
    image?: string | null | undefined
    audio?: string | null | undefined
  }>
}

export type SaveOutcome = 'created' | 'changed' | 'unchanged'

type Db = Kysely<DB> | Transaction<DB>

/** Stops with POI positions and names filled in, or field errors for what cannot be resolved. */
async function resolveStops(db: Db, cityId: number, input: TourDraftInput) {
  const errors: FieldError[] = []
  const poiIds = input.stops.flatMap((s) => (s.poi_id !== undefined ? [s.poi_id] : []))
  const pois = poiIds.length
    ? await db
        .selectFrom('poi')
        .select(['id', 'city_id', 'name_ru', 'lat', 'lon'])
        .where('id', 'in', poiIds)
        .execute()
    : []
  const byId = new Map(pois.map((p) => [Number(p.id), p]))
  const mediaIds = [
    ...new Set(
      [input.cover, ...input.stops.flatMap((s) => [s.image, s.audio])].filter((m): m is string => !!m),
    ),
  ]
  const media = mediaIds.length
    ? await db.selectFrom('media').select(['sha256', 'kind']).where('sha256', 'in', mediaIds).execute()
    : []
  const kinds = new Map(media.map((m) => [m.sha256, m.kind]))
  const needMedia = (sha: string | null | undefined, kind: 'image' | 'audio', path: string) => {
    if (!sha) return
    const k = kinds.get(sha)
    if (!k) errors.push({ path, message: `медиафайл ${sha} не загружен` })
    else if (k !== kind)
      errors.push({
        path,
        message: `медиафайл ${sha} не является ${kind === 'image' ? 'изображением' : 'аудио'}`,
      })
  }
  needMedia(input.cover, 'image', 'body.cover')
  const stops = input.stops.map((s, i) => {
    const path = `body.stops.${i}`
    needMedia(s.image, 'image', `${path}.image`)
    needMedia(s.audio, 'audio', `${path}.audio`)
    let lat = s.lat
    let lon = s.lon
    let title = s.title_ru
    if (s.poi_id !== undefined) {
      const poi = byId.get(s.poi_id)
      if (!poi || poi.city_id !== cityId)
        errors.push({ path: `${path}.poi_id`, message: `объект ${s.poi_id} не найден в этом городе` })
      else {
        lat ??= poi.lat
        lon ??= poi.lon
        title ??= poi.name_ru
      }
    } else if (lat === undefined || lon === undefined || title === undefined) {
      errors.push({ path, message: 'остановка без объекта должна иметь lat, lon и title_ru' })
    }
    return {
      position: i + 1,
      poi_id: s.poi_id ?? null,
      lat: lat ?? 0,
      lon: lon ?? 0,
      title_ru: title ?? '',
      narration_ru: s.narration_ru,
      trigger_radius_m: s.trigger_radius_m,
      image_sha256: s.image ?? null,
      audio_sha256: s.audio ?? null,
    }
  })
  if (errors.length) throw new AppError('VALIDATION_FAILED', 'Черновик тура не прошёл проверку', errors)
  return stops
}

/**
 * Creates or replaces the draft of a tour. A draft equal to the current draft, or (with no draft) to
 * the public version, changes nothing: no new version, `unchanged`. A tour whose public version is
 * edited gets a new draft version beside it; the public version stays as it was until publish.
 */
export async function saveTourDraft(
  db: Kysely<DB>,
  input: TourDraftInput,
  by: string,
): Promise<{ tourId: number; outcome: SaveOutcome; versionId: number }> {
  const city = await findCityBySlug(db, input.city)
  if (!city) throw new AppError('CITY_NOT_FOUND', `Город «${input.city}» не найден`)
  return db.transaction().execute(async (trx) => {
    const stops = await resolveStops(trx, city.id, input)
    const version = {
      title_ru: input.title_ru,
      summary_ru: input.summary_ru,
      description_ru: input.description_ru,
      cover_sha256: input.cover ?? null,
      duration_min: input.duration_min,
      length_m: routeLengthMeters(stops),
    }
    const hash = contentHash({ ...version, stops })
    const inserted = await trx
      .insertInto('tour')
      .values({ city_id: city.id, slug: input.slug })
      .onConflict((oc) => oc.columns(['city_id', 'slug']).doNothing())
      .returning('id')
      .executeTakeFirst()
    const tour = await trx
      .selectFrom('tour')
      .selectAll()
      .where('city_id', '=', city.id)
      .where('slug', '=', input.slug)
      .forUpdate()
      .executeTakeFirstOrThrow()
    const tourId = Number(tour.id)
    const current = tour.draft_version_id ?? tour.published_version_id
    if (current) {
      const v = await trx
        .selectFrom('tour_version')
        .select(['id', 'content_hash'])
        .where('id', '=', current)
        .executeTakeFirstOrThrow()
      if (v.content_hash === hash) return { tourId, outcome: 'unchanged' as const, versionId: Number(v.id) }
    }
    let versionId: number
    if (tour.draft_version_id) {
      versionId = Number(tour.draft_version_id)
      await trx.deleteFrom('tour_stop').where('version_id', '=', versionId).execute()
      await trx
        .updateTable('tour_version')
        .set({ ...version, content_hash: hash, created_by: by })
        .where('id', '=', versionId)
        .execute()
    } else {
      const last = await trx
        .selectFrom('tour_version')
        .select((eb) => eb.fn.max('number').as('n'))
        .where('tour_id', '=', tourId)
        .executeTakeFirst()
      const row = await trx
        .insertInto('tour_version')
        .values({
          ...version,
          tour_id: tourId,
          number: Number(last?.n ?? 0) + 1,
          content_hash: hash,
          created_by: by,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      versionId = Number(row.id)
      await trx.updateTable('tour').set({ draft_version_id: versionId }).where('id', '=', tourId).execute()
    }
    // A draft may have no stops yet (the publish gates require two); an empty INSERT is not SQL.
    if (stops.length)
      await trx
        .insertInto('tour_stop')
        .values(stops.map((s) => ({ ...s, version_id: versionId })))
        .execute()
    await trx.updateTable('tour').set({ updated_at: new Date() }).where('id', '=', tourId).execute()
    const outcome: SaveOutcome = inserted ? 'created' : 'changed'
    await recordAudit(trx, by, 'tour', tourId, inserted ? 'create_draft' : 'update_draft', {
      version_id: versionId,
      content_hash: hash,
    })
    return { tourId, outcome, versionId }
  })
}

/** Gate failures of a tour version, read from the database as it is now (POIs, media, city). */
export async function tourVersionFailures(db: Db, versionId: number): Promise<GateFailure[]> {
  const v = await db
    .selectFrom('tour_version as v')
    .innerJoin('tour as t', 't.id', 'v.tour_id')
    .innerJoin('cities as c', 'c.id', 't.city_id')
    .select([
      'v.title_ru',
      'v.summary_ru',
      'v.description_ru',
      'v.cover_sha256',
      'c.boundary',
      'c.bbox_min_lon',
      'c.bbox_min_lat',
      'c.bbox_max_lon',
      'c.bbox_max_lat',
    ])
    .where('v.id', '=', versionId)
    .executeTakeFirstOrThrow()
  const stops = await db
    .selectFrom('tour_stop as s')
    .leftJoin('poi as p', 'p.id', 's.poi_id')
    .select([
      's.position',
      's.title_ru',
      's.narration_ru',
      's.trigger_radius_m',
      's.lat',
      's.lon',
      's.poi_id',
      's.image_sha256',
      's.audio_sha256',
      'p.published',
      'p.name_ru',
    ])
    .where('s.version_id', '=', versionId)
    .orderBy('s.position')
    .execute()
  const shas = [v.cover_sha256, ...stops.flatMap((s) => [s.image_sha256, s.audio_sha256])].filter(
    (x): x is string => !!x,
  )
  const media = shas.length
    ? await db
        .selectFrom('media')
        .select(['sha256', 'author', 'license', 'source_url'])
        .where('sha256', 'in', shas)
        .execute()
    : []
  const facts = new Map<string, MediaFacts>(media.map((m) => [m.sha256, m]))
  const fact = (sha: string | null) => (sha ? (facts.get(sha) ?? null) : null)
  return tourGates(
    {
      title_ru: v.title_ru,
      summary_ru: v.summary_ru,
      description_ru: v.description_ru,
      cover: fact(v.cover_sha256),
      stops: stops.map((s) => ({
        position: s.position,
        title_ru: s.title_ru,
        narration_ru: s.narration_ru,
        trigger_radius_m: s.trigger_radius_m,
        lat: s.lat,
        lon: s.lon,
        poi: s.poi_id
          ? { id: Number(s.poi_id), published: s.published === true, name_ru: s.name_ru ?? '' }
          : null,
        image: fact(s.image_sha256),
        audio: fact(s.audio_sha256),
      })),
    },
    cityArea(v),
  )
}

export function gateProblem(failures: GateFailure[]): AppError {
  return new AppError(
    'PUBLISH_GATES_FAILED',
    `Публикация невозможна: не пройдено проверок — ${failures.length}`,
    failures.map((f) => ({
      path: f.stop !== undefined ? `stops.${f.stop}.${f.field}` : f.field,
      message: f.reason,
      gate: f.gate,
      ...(f.stop !== undefined ? { stop: f.stop } : {}),
    })),
  )
}

async function lockTour(trx: Transaction<DB>, id: number) {
  const tour = await trx.selectFrom('tour').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
  if (!tour) throw new AppError('TOUR_NOT_FOUND', `Тур ${id} не найден`)
  return tour
}

/**
 * Publishes the draft (or, for an unpublished tour without a draft, its last version) through the
 * gates. The public version is swapped in one UPDATE of the tour row: a reader sees the old version
 * or the new one, never a mix.
 */
export async function publishTour(
  db: Kysely<DB>,
  id: number,
  by: string,
  opts: { fourEyes: boolean } = { fourEyes: false },
): Promise<{ versionId: number; outcome: 'published' | 'unchanged' }> {
  return db.transaction().execute(async (trx) => {
    const tour = await lockTour(trx, id)
    let versionId = tour.draft_version_id
    if (!versionId && tour.status === 'published')
      return { versionId: Number(tour.published_version_id), outcome: 'unchanged' as const }
    if (!versionId) {
      const last = await trx
        .selectFrom('tour_version')
        .select('id')
        .where('tour_id', '=', id)
        .orderBy('number', 'desc')
        .executeTakeFirst()
      if (!last) throw new AppError('TOUR_NOT_FOUND', `У тура ${id} нет версий`)
      versionId = last.id
    }
    if (opts.fourEyes) {
      // Four eyes: the version's last editor (tour_version.created_by follows every save) may not publish it.
      const v = await trx
        .selectFrom('tour_version')
        .select('created_by')
        .where('id', '=', versionId)
        .executeTakeFirstOrThrow()
      if (v.created_by === by)
        throw new AppError(
          'FOUR_EYES_REQUIRED',
          `${by} edited this draft last: another operator must publish it (ADMIN_FOUR_EYES)`,
        )
    }
    const failures = await tourVersionFailures(trx, Number(versionId))
    if (failures.length) throw gateProblem(failures)
    await trx
      .updateTable('tour_version')
      .set({ published_at: new Date(), published_by: by })
      .where('id', '=', versionId)
      .where('published_at', 'is', null)
      .execute()
    await trx
      .updateTable('tour')
      .set({
        status: 'published',
        published_version_id: versionId,
        draft_version_id: null,
        unpublished_reason: null,
        review_reason: null,
        review_flagged_at: null,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute()
    await recordAudit(trx, by, 'tour', id, 'publish', { version_id: Number(versionId) })
    return { versionId: Number(versionId), outcome: 'published' as const }
  })
}

export async function unpublishTour(db: Kysely<DB>, id: number, reason: string, by: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await lockTour(trx, id)
    await trx
      .updateTable('tour')
      .set({
        status: 'unpublished',
        published_version_id: null,
        unpublished_reason: reason,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute()
    await recordAudit(trx, by, 'tour', id, 'unpublish', { reason })
  })
}

export interface TourListFilter {
  city?: string | undefined
  status?: ContentStatus | undefined
  after?: number | undefined
  limit: number
}

/** Admin listing in id order; one row more than `limit` tells the caller there is a next page. */
export function listTours(db: Kysely<DB>, f: TourListFilter) {
  let q = db
    .selectFrom('tour as t')
    .innerJoin('cities as c', 'c.id', 't.city_id')
    .leftJoin('tour_version as d', 'd.id', 't.draft_version_id')
    .leftJoin('tour_version as p', 'p.id', 't.published_version_id')
    .select([
      't.id',
      't.slug',
      'c.slug as city',
      't.status',
      't.unpublished_reason',
      't.review_reason',
      't.review_flagged_at',
      't.updated_at',
      'd.number as draft_number',
      'd.title_ru as draft_title',
      'p.number as published_number',
      'p.title_ru as published_title',
      'p.content_hash as published_hash',
    ])
    .orderBy('t.id')
    .limit(f.limit + 1)
  if (f.city) q = q.where('c.slug', '=', f.city)
  if (f.status) q = q.where('t.status', '=', f.status)
  if (f.after !== undefined) q = q.where('t.id', '>', f.after)
  return q.execute()
}
