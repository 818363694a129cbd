import type { Kysely } from 'kysely'
import type { Config } from '../../config.js'
import type { BlobStore } from '../../platform/blobs/blob-store.js'
import type { DB, PackRole } from '../../platform/db/schema.js'
import { AppError } from '../../platform/http/errors.js'
import { tourAccess } from '../catalog/index.js'
import { cityCatalog, tourDetail } from '../catalog/public.service.js'
import { listTenantCities } from '../cities/cities.queries.js'
import { OSM_ATTRIBUTION, OSM_LICENSE, tenantCityOr404 } from '../places/index.js'
import { type PackRecord, recordHash } from './pack-build.js'
import { packSigners } from './pack-keys.js'

/**
 * What a traveller's app downloads to work offline, per city: a manifest signed with Ed25519 over
 * its canonical form, naming content-addressed files. The city part (POIs, helpers, basemap) is one
 * built version; the catalog of the calling app and the tours the caller may open (free or owned,
 * with their media) are added for the caller. Locked tours are listed without files.
 */

export interface PackFile {
  role: string
  sha256: string
  bytes: number
  media_type: string
  url: string
}

const blobUrl = (sha: string) => `/v1/blobs/sha256/${sha}`
const JSON_TYPE = 'application/json'

async function latestPack(db: Kysely<DB>, cityId: number) {
  return db
    .selectFrom('city_pack')
    .selectAll()
    .where('city_id', '=', cityId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst()
}

async function packFiles(db: Kysely<DB>, packId: string): Promise<PackFile[]> {
  const rows = await db
    .selectFrom('city_pack_file')
    .selectAll()
    .where('pack_id', '=', packId)
    .orderBy('role')
    .execute()
  return rows.map((r) => ({
    role: r.role,
    sha256: r.sha256,
    bytes: Number(r.bytes),
    media_type: r.media_type,
    url: blobUrl(r.sha256),
  }))
}

/** Stores a JSON document as a blob the given scope may read; returns its file entry. */
async function jsonFile(
  db: Kysely<DB>,
  blobs: BlobStore,
  role: string,
  scope: string,
  doc: unknown,
): Promise<PackFile> {
  const { sha256, bytes } = await blobs.putBytes(Buffer.from(JSON.stringify(doc)))
  await db
    .insertInto('pack_blob')
    .values({ sha256, scope, store: 'blobs', media_type: JSON_TYPE, bytes })
    .onConflict((oc) => oc.columns(['sha256', 'scope']).doNothing())
    .execute()
  return { role, sha256, bytes, media_type: JSON_TYPE, url: blobUrl(sha256) }
}

export async function cityManifest(
  deps: { config: Config; db: Kysely<DB>; blobs: BlobStore },
  tenant: { id: number; slug: string },
  slug: string,
  platform: 'ios' | 'android',
  owned: ReadonlySet<number>,
) {
  const { db, blobs, config } = deps
  const city = await tenantCityOr404(db, tenant.id, slug)
  const pack = await latestPack(db, city.id)
  if (!pack) throw new AppError('PACK_NOT_FOUND', `Офлайн-пакет города «${slug}» ещё не собран`)
  const files = await packFiles(db, pack.id)
  const catalog = await cityCatalog(db, tenant.id, slug, platform, new Set())
  files.push(await jsonFile(db, blobs, 'catalog', `tenant:${tenant.id}`, catalog))
  const tourIds = [...new Set(catalog.items.flatMap((i) => i.tours.map((t) => t.id)))]
  const access = await tourAccess(db, tenant.id, tourIds, owned)
  const tours = []
  for (const id of tourIds) {
    const a = access.get(id) ?? 'locked'
    const title = catalog.items.flatMap((i) => i.tours).find((t) => t.id === id)?.title_ru ?? ''
    tours.push({ id, title_ru: title, access: a, files: a !== 'locked' })
    if (a === 'locked') continue
    const tour = await tourDetail(db, tenant.id, id, owned)
    files.push(await jsonFile(db, blobs, `tour:${id}`, `tour:${id}`, tour))
    for (const media of await tourMedia(db, id)) {
      await db
        .insertInto('pack_blob')
        .values({
          sha256: media.sha256,
          scope: `tour:${id}`,
          store: 'media',
          media_type: media.mime,
          bytes: media.bytes,
        })
        .onConflict((oc) => oc.columns(['sha256', 'scope']).doNothing())
        .execute()
      files.push({
        role: 'media',
        sha256: media.sha256,
        bytes: Number(media.bytes),
        media_type: media.mime,
        url: blobUrl(media.sha256),
      })
    }
  }
  const signer = (await packSigners(db, config.packs))[0]!
  const createdAt = pack.created_at
  const manifest: Record<string, unknown> = {
    format: 1,
    city: city.slug,
    tenant: tenant.slug,
    version: pack.version,
    created_at: createdAt.toISOString(),
    expires_at: new Date(createdAt.getTime() + config.packs.ttlDays * 86_400_000).toISOString(),
    attribution: OSM_ATTRIBUTION,
    license: OSM_LICENSE,
    files: dedupe(files),
    tours,
    key_id: signer.kid,
  }
  manifest.signature = signer.sign(manifest)
  return manifest
}

function dedupe(files: PackFile[]): PackFile[] {
  const seen = new Set<string>()
  return files.filter((f) => {
    const key = `${f.role}|${f.sha256}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Cover and stop media of a tour's published version. */
async function tourMedia(db: Kysely<DB>, tourId: number) {
  const version = await db
    .selectFrom('tour')
    .select('published_version_id')
    .where('id', '=', tourId)
    .executeTakeFirstOrThrow()
  if (!version.published_version_id) return []
  const v = await db
    .selectFrom('tour_version')
    .select('cover_sha256')
    .where('id', '=', version.published_version_id)
    .executeTakeFirstOrThrow()
  const stops = await db
    .selectFrom('tour_stop')
    .select(['image_sha256', 'audio_sha256'])
    .where('version_id', '=', version.published_version_id)
    .execute()
  const shas = [v.cover_sha256, ...stops.flatMap((s) => [s.image_sha256, s.audio_sha256])].filter(
    (s): s is string => s !== null,
  )
  if (!shas.length) return []
  return db
    .selectFrom('media')
    .select(['sha256', 'mime', 'bytes'])
    .where('sha256', 'in', [...new Set(shas)])
    .orderBy('sha256')
    .execute()
}

/** Public keys that verify pack manifests. */
export async function packKeys(deps: { config: Config; db: Kysely<DB> }) {
  const signers = await packSigners(deps.db, deps.config.packs)
  return {
    keys: signers.map((s) => ({ ...s.publicJwk, kid: s.kid, alg: 'EdDSA' as const, use: 'sig' as const })),
  }
}

/**
 * The changes from a kept version to the latest, as NDJSON lines: a header, then upserts (with the
 * record) and deletes of POIs and helpers, then the city files that changed. 410 when `since` is
 * older than the versions kept (the app downloads the whole pack again).
 */
export async function packChanges(
  db: Kysely<DB>,
  blobs: BlobStore,
  tenantId: number,
  slug: string,
  since: number,
) {
  const city = await tenantCityOr404(db, tenantId, slug)
  const latest = await latestPack(db, city.id)
  if (!latest) throw new AppError('PACK_NOT_FOUND', `Офлайн-пакет города «${slug}» ещё не собран`)
  if (since > latest.version)
    throw new AppError('PACK_VERSION_UNKNOWN', `Версии ${since} пакета нет: последняя ${latest.version}`)
  const from = await db
    .selectFrom('city_pack')
    .select(['id', 'version'])
    .where('city_id', '=', city.id)
    .where('version', '=', since)
    .executeTakeFirst()
  if (!from)
    throw new AppError('PACK_VERSION_GONE', `Версия ${since} больше не хранится: загрузите пакет целиком`)
  const lines: unknown[] = [{ op: 'header', city: city.slug, from: since, to: latest.version }]
  if (from.id !== latest.id) {
    const old = await db
      .selectFrom('city_pack_record')
      .select(['kind', 'record_id', 'hash'])
      .where('pack_id', '=', from.id)
      .execute()
    const oldHash = new Map(old.map((r) => [`${r.kind}:${r.record_id}`, r.hash]))
    const current = await cityRecordsOf(db, blobs, latest.id)
    for (const r of current) {
      const key = `${r.kind}:${r.id}`
      if (oldHash.get(key) !== r.hash)
        lines.push({ op: 'upsert', kind: r.kind, id: r.id, hash: r.hash, record: r.feature })
      oldHash.delete(key)
    }
    for (const key of oldHash.keys()) {
      const [kind, id] = key.split(':') as [string, string]
      lines.push({ op: 'delete', kind, id: Number(id) })
    }
  }
  const before = new Map((await packFiles(db, from.id)).map((f) => [f.role, f.sha256]))
  const changed = (await packFiles(db, latest.id)).filter((f) => before.get(f.role) !== f.sha256)
  lines.push({ op: 'files', version: latest.version, files: changed })
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`
}

/** The records of a built version, read back from its own files (exactly what it holds). */
async function cityRecordsOf(db: Kysely<DB>, blobs: BlobStore, packId: string): Promise<PackRecord[]> {
  const files = await db
    .selectFrom('city_pack_file')
    .select(['role', 'sha256'])
    .where('pack_id', '=', packId)
    .where('role', 'in', ['pois', 'helpers'])
    .execute()
  const out: PackRecord[] = []
  for (const f of files) {
    const doc = JSON.parse(
      Buffer.from(await new Response(await blobs.read(f.sha256)).arrayBuffer()).toString('utf8'),
    ) as {
      features: PackRecord['feature'][]
    }
    const kind = f.role === 'pois' ? 'poi' : 'helper'
    for (const feature of doc.features) out.push({ kind, id: feature.id, feature, hash: recordHash(feature) })
  }
  return out
}

/** The calling app's cities with their pack versions and download sizes, for a first start. */
export async function onboarding(db: Kysely<DB>, tenantId: number) {
  const cities = await listTenantCities(db, tenantId)
  const out = []
  for (const c of cities) {
    const pack = await latestPack(db, c.id)
    const files = pack ? await packFiles(db, pack.id) : []
    const sizes: Partial<Record<PackRole, number>> = {}
    for (const f of files) sizes[f.role as PackRole] = f.bytes
    out.push({
      slug: c.slug,
      name_ru: c.name_ru,
      center: { lat: c.center_lat, lon: c.center_lon },
      pack: pack
        ? {
            version: pack.version,
            created_at: pack.created_at.toISOString(),
            manifest_url: `/v1/cities/${c.slug}/pack.json`,
            bytes: sizes,
            total_bytes: files.reduce((n, f) => n + f.bytes, 0),
          }
        : null,
    })
  }
  return { cities: out }
}

/**
 * Whether the caller may read a blob, and from which store: a public pack file, the calling app's
 * catalog, or a file of a tour the caller may open. Unknown to the caller's app: 404; a tour the
 * caller has not bought: 403.
 */
export async function blobAccess(
  db: Kysely<DB>,
  tenantId: number,
  sha256: string,
  owned: ReadonlySet<number>,
): Promise<{ store: 'blobs' | 'media'; media_type: string; bytes: number }> {
  const rows = await db.selectFrom('pack_blob').selectAll().where('sha256', '=', sha256).execute()
  let locked = false
  for (const r of rows) {
    if (r.scope === 'public' || r.scope === `tenant:${tenantId}`) return view(r)
    if (r.scope.startsWith('tour:')) {
      const tourId = Number(r.scope.slice(5))
      const a = (await tourAccess(db, tenantId, [tourId], owned)).get(tourId)
      if (a === 'free' || a === 'owned') return view(r)
      if (a === 'locked') locked = true
    }
  }
  if (locked) throw new AppError('BLOB_LOCKED', 'Файл доступен только после покупки тура')
  throw new AppError('BLOB_NOT_FOUND', `Файл ${sha256} не найден`)
}

function view(r: { store: 'blobs' | 'media'; media_type: string; bytes: number }) {
  return { store: r.store, media_type: r.media_type, bytes: Number(r.bytes) }
}
