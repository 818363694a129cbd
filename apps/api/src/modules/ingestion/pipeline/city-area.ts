import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Kysely, sql } from 'kysely'
import type { DB } from '../../../platform/db/schema.js'
import { PermanentJobError, TransientJobError } from '../../../platform/jobs/types.js'
import { bboxContains, boundaryBBox, pointInBoundary } from '../osm/geometry.js'
import { readOsmFile } from '../osm/read-osm-file.js'
import type { BBox, Boundary } from '../osm/types.js'
import { buildBoundaryQuery } from '../overpass-query.js'
import type { OverpassClient } from '../sources/overpass-client.js'
import { type BoundaryRelation, boundaryNameMatches, parseBoundaryAnswer } from './boundary-answer.js'
import type { AreaFilter } from './checkpoint.js'
import { fromRead, fromUpstream } from './job-errors.js'

export interface City {
  id: number
  slug: string
  nameRu: string
  relationId: number
  bbox: BBox
  boundary: Boundary | null
}

export async function loadCity(db: Kysely<DB>, cityId: number): Promise<City> {
  const row = await db.selectFrom('cities').selectAll().where('id', '=', cityId).executeTakeFirst()
  if (!row) throw new PermanentJobError('CITY_NOT_FOUND', `city ${cityId} does not exist`)
  const boundary = typeof row.boundary === 'string' ? JSON.parse(row.boundary) : row.boundary
  return {
    id: row.id,
    slug: row.slug,
    nameRu: row.name_ru,
    relationId: Number(row.osm_relation_id),
    bbox: {
      minLon: row.bbox_min_lon,
      minLat: row.bbox_min_lat,
      maxLon: row.bbox_max_lon,
      maxLat: row.bbox_max_lat,
    },
    boundary: Array.isArray(boundary) && boundary.length > 0 ? (boundary as Boundary) : null,
  }
}

async function cacheBoundary(db: Kysely<DB>, city: City, boundary: Boundary, source: string): Promise<void> {
  await sql`UPDATE cities SET boundary = ${JSON.stringify(boundary)}::jsonb, boundary_source = ${source},
            boundary_fetched_at = now() WHERE id = ${city.id}`.execute(db)
  city.boundary = boundary
}

/**
 * A wrong relation id would silently ingest another place (some seeded ids are unverified), so a
 * relation whose name is not the city's stops the run for good.
 */
function checkName(city: City, rel: BoundaryRelation): void {
  if (boundaryNameMatches(rel.tags, city.nameRu)) return
  const names = [rel.tags.name, rel.tags['name:ru']].filter(Boolean).join(' / ') || '(no name)'
  throw new PermanentJobError(
    'BOUNDARY_MISMATCH',
    `boundary relation ${rel.id} is "${names}", not the city "${city.nameRu}" (${city.slug}): check the city's osm_relation_id`,
  )
}

/** Fetches the boundary relation with its geometry from Overpass and caches it on the city. */
export async function fetchBoundary(
  db: Kysely<DB>,
  city: City,
  client: OverpassClient,
  workDir: string,
  signal: AbortSignal,
  cacheable: boolean,
): Promise<void> {
  const path = join(workDir, 'boundary.json')
  let endpoint: string
  try {
    ;({ endpoint } = await client.download(buildBoundaryQuery(city.relationId), path, signal))
  } catch (err) {
    throw fromUpstream(err)
  }
  let rel: BoundaryRelation | null
  try {
    rel = parseBoundaryAnswer(JSON.parse(await readFile(path, 'utf8')), city.relationId)
  } catch (err) {
    throw new TransientJobError('UPSTREAM_INVALID_RESPONSE', `unreadable boundary answer: ${String(err)}`)
  }
  // The data query selects by this relation's area: without the relation there is nothing to ingest.
  if (!rel)
    throw new PermanentJobError(
      'BOUNDARY_NOT_FOUND',
      `boundary relation ${city.relationId} of ${city.slug} does not exist upstream`,
    )
  checkName(city, rel)
  if (!rel.boundary) return
  if (cacheable) await cacheBoundary(db, city, rel.boundary, `overpass ${endpoint}`)
  else city.boundary = rel.boundary
}

/**
 * Looks for the city's boundary relation in an OSM file (an extract of a region holds it); caches it
 * when its rings close. An extract cut through the boundary leaves it open: the bbox then stands in.
 */
export async function boundaryFromFile(
  db: Kysely<DB>,
  city: City,
  path: string,
  opts: { source: string; downloaded: boolean; cacheable: boolean },
): Promise<void> {
  let tags: Record<string, string> | null = null
  let boundary: Boundary | null
  try {
    const read = await readOsmFile(path, {
      keep: (t) => t.type === 'boundary' || t.boundary === 'administrative',
      keys: ['type', 'boundary'],
      boundaryRelationId: city.relationId,
    })
    for await (const f of read) if (f.type === 'relation' && f.id === city.relationId) tags = f.tags
    boundary = read.boundary()
  } catch (err) {
    throw fromRead(err, opts.downloaded)
  }
  if (tags) checkName(city, { id: city.relationId, tags, boundary })
  // Rings without the relation's name cannot be checked: the bbox is the safer filter then.
  if (!boundary || !tags) return
  if (opts.cacheable) await cacheBoundary(db, city, boundary, opts.source)
  else city.boundary = boundary
}

export interface AreaTest {
  filter: AreaFilter
  contains(lon: number, lat: number): boolean
}

export function areaOf(city: City): AreaTest {
  const { boundary } = city
  if (!boundary) return { filter: 'bbox', contains: (lon, lat) => bboxContains(city.bbox, lon, lat) }
  const box = boundaryBBox(boundary)
  return {
    filter: 'polygon',
    contains: (lon, lat) => bboxContains(box, lon, lat) && pointInBoundary(lon, lat, boundary),
  }
}
