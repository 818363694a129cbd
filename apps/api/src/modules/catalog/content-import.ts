import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Kysely } from 'kysely'
import { parse } from 'yaml'
import { z } from 'zod'
import type { ContentConfig } from '../../config.js'
import type { DB } from '../../platform/db/schema.js'
import { AppError } from '../../platform/http/errors.js'
import { publishCatalogItem, saveCatalogItem } from './catalog.service.js'
import { storeMedia } from './media.service.js'
import type { MediaStore } from './media-store.js'
import { publishTour, saveTourDraft } from './tours.service.js'

/**
 * Content as files: `<dir>/<city>/<tour>.yaml` (a tour, optionally with the catalog items that sell
 * it) and `<dir>/<city>/catalog.yaml` (bundles), media files beside them. Stops name POIs by OSM
 * identity (`node/123`), resolved to the city's published POIs. Importing the same files twice
 * changes nothing: unchanged drafts make no version, unchanged items stay published.
 */

const ACTOR = 'content-import'
const osmRef = z
  .string()
  .regex(/^(node|way|relation)\/\d{1,15}$/, { message: 'must be node/<id>, way/<id> or relation/<id>' })
const MediaRef = z.strictObject({
  file: z.string().min(1),
  author: z.string().min(1),
  license: z.string().min(1),
  source_url: z.string().url(),
})
const ItemSchema = z.strictObject({
  slug: z.string(),
  kind: z.enum(['tour', 'bundle']),
  title_ru: z.string(),
  summary_ru: z.string(),
  cover: MediaRef.optional(),
  paid: z.boolean(),
  tours: z.array(z.string()).optional(),
  offers: z.record(
    z.string(),
    z.strictObject({ apple: z.string().optional(), rustore: z.string().optional() }),
  ),
})
const TourFileSchema = z.strictObject({
  tour: z.strictObject({
    slug: z.string(),
    title_ru: z.string(),
    summary_ru: z.string(),
    description_ru: z.string(),
    duration_min: z.number().int(),
    cover: MediaRef.optional(),
    stops: z.array(
      z.strictObject({
        poi: osmRef.optional(),
        lat: z.number().optional(),
        lon: z.number().optional(),
        title_ru: z.string().optional(),
        narration_ru: z.string(),
        trigger_radius_m: z.number().int(),
        image: MediaRef.optional(),
        audio: MediaRef.optional(),
      }),
    ),
  }),
  catalog: z.array(ItemSchema).optional(),
})
const CatalogFileSchema = z.strictObject({ catalog: z.array(ItemSchema) })

export interface ImportEntry {
  kind: 'tour' | 'catalog_item'
  city: string
  slug: string
  file: string
  outcome: 'created' | 'changed' | 'unchanged' | 'failed'
  published?: boolean
  errors?: string[]
}

export interface ImportReport {
  entries: ImportEntry[]
  created: number
  changed: number
  unchanged: number
  failed: number
}

function describe(err: unknown): string[] {
  if (err instanceof AppError)
    return err.errors?.length ? err.errors.map((e) => `${e.path}: ${e.message}`) : [err.message]
  if (err instanceof z.ZodError) return err.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  return [(err as Error).message]
}

/** The city directories under a content directory, sorted; none when the directory does not exist. */
export async function contentCities(dir: string): Promise<string[]> {
  const dirents = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw err
  })
  return dirents
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
}

export async function importContent(
  db: Kysely<DB>,
  store: MediaStore,
  limits: Pick<ContentConfig, 'maxImageBytes' | 'maxAudioBytes'>,
  dir: string,
  /** Only this city's directory (the `content_import` job imports one city per run). */
  only?: { city: string },
): Promise<ImportReport> {
  const entries: ImportEntry[] = []
  const cities = (await contentCities(dir)).filter((c) => !only || c === only.city)
  const media = async (base: string, ref: z.infer<typeof MediaRef> | undefined) => {
    if (!ref) return undefined
    const bytes = await readFile(join(base, ref.file))
    const { media } = await storeMedia(db, store, limits, bytes, ref, ACTOR)
    return media.sha256
  }
  const items: Array<{ city: string; file: string; item: z.infer<typeof ItemSchema>; base: string }> = []
  for (const city of cities) {
    const base = join(dir, city)
    const files = (await readdir(base)).filter((f) => /\.ya?ml$/.test(f)).sort()
    for (const name of files) {
      const file = relative(dir, join(base, name))
      const raw = parse(await readFile(join(base, name), 'utf8'))
      if (/^catalog\.ya?ml$/.test(name)) {
        const parsed = CatalogFileSchema.safeParse(raw)
        if (!parsed.success) {
          entries.push({
            kind: 'catalog_item',
            city,
            slug: '?',
            file,
            outcome: 'failed',
            errors: describe(parsed.error),
          })
          continue
        }
        for (const item of parsed.data.catalog) items.push({ city, file, item, base })
        continue
      }
      const parsed = TourFileSchema.safeParse(raw)
      if (!parsed.success) {
        entries.push({
          kind: 'tour',
          city,
          slug: name.replace(/\.ya?ml$/, ''),
          file,
          outcome: 'failed',
          errors: describe(parsed.error),
        })
        continue
      }
      const { tour, catalog } = parsed.data
      for (const item of catalog ?? [])
        items.push({ city, file, item: { ...item, tours: item.tours ?? [tour.slug] }, base })
      try {
        const stops = []
        for (const s of tour.stops) {
          let poiId: number | undefined
          if (s.poi) {
            const [type, id] = s.poi.split('/')
            const poi = await db
              .selectFrom('poi as p')
              .innerJoin('cities as c', 'c.id', 'p.city_id')
              .select('p.id')
              .where('c.slug', '=', city)
              .where('p.osm_type', '=', type as 'node')
              .where('p.osm_id', '=', Number(id))
              .where('p.published', '=', true)
              .executeTakeFirst()
            if (!poi)
              throw new Error(
                `stop "${s.title_ru ?? s.poi}": ${s.poi} is not a published POI of ${city} (ingest the city first)`,
              )
            poiId = Number(poi.id)
          }
          stops.push({
            poi_id: poiId,
            lat: s.lat,
            lon: s.lon,
            title_ru: s.title_ru,
            narration_ru: s.narration_ru,
            trigger_radius_m: s.trigger_radius_m,
            image: await media(base, s.image),
            audio: await media(base, s.audio),
          })
        }
        const saved = await saveTourDraft(
          db,
          {
            city,
            slug: tour.slug,
            title_ru: tour.title_ru,
            summary_ru: tour.summary_ru,
            description_ru: tour.description_ru,
            duration_min: tour.duration_min,
            cover: await media(base, tour.cover),
            stops,
          },
          ACTOR,
        )
        const published = await publishTour(db, saved.tourId, ACTOR)
        entries.push({
          kind: 'tour',
          city,
          slug: tour.slug,
          file,
          outcome:
            saved.outcome === 'unchanged' && published.outcome === 'unchanged'
              ? 'unchanged'
              : saved.outcome === 'unchanged'
                ? 'changed'
                : saved.outcome,
          published: true,
        })
      } catch (err) {
        entries.push({ kind: 'tour', city, slug: tour.slug, file, outcome: 'failed', errors: describe(err) })
      }
    }
  }
  for (const { city, file, item, base } of items) {
    try {
      const saved = await saveCatalogItem(
        db,
        { ...item, city, tours: item.tours ?? [], cover: await media(base, item.cover) },
        ACTOR,
      )
      const published = await publishCatalogItem(db, saved.itemId, ACTOR)
      entries.push({
        kind: 'catalog_item',
        city,
        slug: item.slug,
        file,
        outcome: saved.outcome === 'unchanged' && published === 'published' ? 'changed' : saved.outcome,
        published: true,
      })
    } catch (err) {
      entries.push({
        kind: 'catalog_item',
        city,
        slug: item.slug,
        file,
        outcome: 'failed',
        errors: describe(err),
      })
    }
  }
  const count = (o: ImportEntry['outcome']) => entries.filter((e) => e.outcome === o).length
  return {
    entries,
    created: count('created'),
    changed: count('changed'),
    unchanged: count('unchanged'),
    failed: count('failed'),
  }
}
