import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { type Kysely, sql, type Transaction } from 'kysely'
import type { BlobStore } from '../../platform/blobs/blob-store.js'
import type { DB, PackRole } from '../../platform/db/schema.js'
import { blobInUse, poiTilesArchive } from '../maps/index.js'
import { OSM_ATTRIBUTION, OSM_LICENSE } from '../places/index.js'

/**
 * Builds a city's pack version from what is published now: the POIs and helper places as GeoJSON
 * files (content-addressed blobs) and the hash of every record, so a changeset is a diff of two
 * versions. Idempotent on the data: when nothing changed since the latest version, that version is
 * the answer and nothing is written. Keeps `keep` versions; blobs no kept version references are
 * deleted.
 */

export interface PackRecord {
  kind: 'poi' | 'helper'
  id: number
  hash: string
  feature: GeoJsonFeature
}

/** A record's hash: sha256 of its RFC 8785 canonical JSON. */
export function recordHash(feature: GeoJsonFeature): string {
  return createHash('sha256').update(canonicalize(feature)!).digest('hex')
}

export interface GeoJsonFeature {
  type: 'Feature'
  id: number
  geometry: { type: 'Point'; coordinates: [number, number] }
  properties: Record<string, unknown>
}

export const GEOJSON = 'application/geo+json'
export const PMTILES = 'application/vnd.pmtiles'
const round7 = (n: number) => Math.round(n * 1e7) / 1e7

export async function cityRecords(db: Kysely<DB>, cityId: number): Promise<PackRecord[]> {
  const pois = await db
    .selectFrom('poi')
    .select([
      'id',
      'name_ru',
      'category',
      'lat',
      'lon',
      'address',
      'opening_hours',
      'website',
      'phone',
      'wikidata',
    ])
    .where('city_id', '=', cityId)
    .where('published', '=', true)
    .orderBy('id')
    .execute()
  const helpers = await db
    .selectFrom('helper_place')
    .select(['id', 'kind', 'name', 'lat', 'lon', 'opening_hours', 'operator'])
    .where('city_id', '=', cityId)
    .where('missing_since', 'is', null)
    .orderBy('id')
    .execute()
  const record = (
    kind: PackRecord['kind'],
    id: number,
    lat: number,
    lon: number,
    properties: Record<string, unknown>,
  ) => {
    const feature: GeoJsonFeature = {
      type: 'Feature',
      id,
      geometry: { type: 'Point', coordinates: [round7(lon), round7(lat)] },
      properties,
    }
    return { kind, id, feature, hash: recordHash(feature) }
  }
  return [
    ...pois.map((p) =>
      record('poi', Number(p.id), p.lat, p.lon, {
        name_ru: p.name_ru,
        category: p.category,
        address: p.address,
        opening_hours: p.opening_hours,
        website: p.website,
        phone: p.phone,
        wikidata: p.wikidata,
      }),
    ),
    ...helpers.map((h) =>
      record('helper', Number(h.id), h.lat, h.lon, {
        kind: h.kind,
        name: h.name,
        opening_hours: h.opening_hours,
        operator: h.operator,
      }),
    ),
  ]
}

/** The GeoJSON file of one kind, with the licence every OSM-derived file carries. */
export function featureFile(records: PackRecord[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'FeatureCollection',
      attribution: OSM_ATTRIBUTION,
      license: OSM_LICENSE,
      features: records.map((r) => r.feature),
    }),
  )
}

export interface BuiltPack {
  id: string
  version: number
  reused: boolean
  files: Array<{ role: PackRole; sha256: string; bytes: number }>
}

export async function buildCityPack(
  db: Kysely<DB>,
  blobs: BlobStore,
  city: { id: number },
  opts: {
    keep: number
    extraFiles?: Array<{ role: PackRole; sha256: string; bytes: number; media_type: string }>
  },
): Promise<BuiltPack> {
  const records = await cityRecords(db, city.id)
  // The POI/helper tiles as one PMTiles file: the same build gives the same bytes, so the same blob.
  const row = await db
    .selectFrom('cities')
    .select(['id', 'slug', 'name_ru', 'center_lon', 'center_lat'])
    .where('id', '=', city.id)
    .executeTakeFirstOrThrow()
  const tiles = await poiTilesArchive(db, row)
  const tilesFile = tiles
    ? [{ role: 'poi_tiles' as const, ...(await blobs.putBytes(tiles.bytes)), media_type: PMTILES }]
    : []
  const extra = [...tilesFile, ...(opts.extraFiles ?? [])]
  const dataHash = createHash('sha256')
    .update(records.map((r) => `${r.kind}:${r.id}:${r.hash}`).join('\n'))
    .update(extra.map((f) => `${f.role}:${f.sha256}`).join('\n'))
    .digest('hex')
  const latest = await db
    .selectFrom('city_pack')
    .select(['id', 'version', 'data_hash'])
    .where('city_id', '=', city.id)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst()
  if (latest?.data_hash === dataHash) {
    const files = await db
      .selectFrom('city_pack_file')
      .select(['role', 'sha256', 'bytes'])
      .where('pack_id', '=', latest.id)
      .execute()
    return {
      id: latest.id,
      version: latest.version,
      reused: true,
      files: files.map((f) => ({ ...f, bytes: Number(f.bytes) })),
    }
  }
  // Blobs first: a version row never names a file that is not stored.
  const pois = await blobs.putBytes(featureFile(records.filter((r) => r.kind === 'poi')))
  const helpers = await blobs.putBytes(featureFile(records.filter((r) => r.kind === 'helper')))
  const files = [
    { role: 'pois' as const, ...pois, media_type: GEOJSON },
    { role: 'helpers' as const, ...helpers, media_type: GEOJSON },
    ...extra,
  ]
  const built = await db.transaction().execute(async (trx) => {
    // One builder per city at a time; a concurrent one waits and then finds this version.
    await sql`SELECT pg_advisory_xact_lock(${7_000_000 + city.id})`.execute(trx)
    const now = await trx
      .selectFrom('city_pack')
      .select(['id', 'version', 'data_hash'])
      .where('city_id', '=', city.id)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst()
    if (now?.data_hash === dataHash) return { id: now.id, version: now.version, reused: true }
    const pack = await trx
      .insertInto('city_pack')
      .values({
        city_id: city.id,
        version: (now?.version ?? 0) + 1,
        data_hash: dataHash,
        poi_count: records.filter((r) => r.kind === 'poi').length,
        helper_count: records.filter((r) => r.kind === 'helper').length,
      })
      .returning(['id', 'version'])
      .executeTakeFirstOrThrow()
    await trx
      .insertInto('city_pack_file')
      .values(
        files.map((f) => ({
          pack_id: pack.id,
          role: f.role,
          sha256: f.sha256,
          bytes: f.bytes,
          media_type: f.media_type,
        })),
      )
      .execute()
    for (let i = 0; i < records.length; i += 1000)
      await trx
        .insertInto('city_pack_record')
        .values(
          records
            .slice(i, i + 1000)
            .map((r) => ({ pack_id: pack.id, kind: r.kind, record_id: r.id, hash: r.hash })),
        )
        .execute()
    await trx
      .insertInto('pack_blob')
      .values(
        files.map((f) => ({
          sha256: f.sha256,
          scope: 'public',
          store: 'blobs' as const,
          media_type: f.media_type,
          bytes: f.bytes,
        })),
      )
      .onConflict((oc) => oc.columns(['sha256', 'scope']).doNothing())
      .execute()
    return { id: pack.id, version: pack.version, reused: false }
  })
  if (!built.reused) await prune(db, blobs, city.id, opts.keep)
  return { ...built, files: files.map(({ role, sha256, bytes }) => ({ role, sha256, bytes })) }
}

/**
 * Drops versions beyond the newest `keep`, then the city-part blobs (pois, helpers, poi_tiles,
 * basemap) that no kept version names and that are not the city's current basemap or extract.
 */
async function prune(db: Kysely<DB>, blobs: BlobStore, cityId: number, keep: number) {
  const orphans = await db.transaction().execute(async (trx: Transaction<DB>) => {
    const old = await trx
      .selectFrom('city_pack')
      .select('id')
      .where('city_id', '=', cityId)
      .orderBy('version', 'desc')
      .offset(keep)
      .limit(1_000)
      .execute()
    if (!old.length) return []
    const ids = old.map((o) => o.id)
    const files = await trx
      .selectFrom('city_pack_file')
      .select('sha256')
      .where('pack_id', 'in', ids)
      .where('role', 'in', ['pois', 'helpers', 'poi_tiles', 'basemap'])
      .execute()
    await trx.deleteFrom('city_pack').where('id', 'in', ids).execute()
    const candidates = [...new Set(files.map((f) => f.sha256))]
    if (!candidates.length) return []
    const still = await trx
      .selectFrom('city_pack_file')
      .select('sha256')
      .where('sha256', 'in', candidates)
      .execute()
    const kept = new Set(still.map((s) => s.sha256))
    const gone: string[] = []
    for (const c of candidates) if (!kept.has(c) && !(await blobInUse(trx, c))) gone.push(c)
    if (gone.length)
      await trx.deleteFrom('pack_blob').where('sha256', 'in', gone).where('store', '=', 'blobs').execute()
    return gone
  })
  // After the commit: a blob is deleted only once no kept version can name it.
  for (const sha of orphans) await blobs.delete(sha)
}
