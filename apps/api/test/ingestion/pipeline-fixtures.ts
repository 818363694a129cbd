import { type Kysely, sql } from 'kysely'
import { changeStateOf } from '../../src/modules/ingestion/index.js'
import type { DB } from '../../src/platform/db/schema.js'

export interface StagedRow {
  osm_type: string
  osm_id: number
  category: string
  name: string | null
  lat: number
  lon: number
  content_hash: string
  change_state: string
  wikidata: string | null
}

/** The staged set of one city, in a stable order, without the columns that name runs or times. */
export async function stagedPois(db: Kysely<DB>, citySlug = 'sergiev-posad'): Promise<StagedRow[]> {
  const { rows } = await sql<StagedRow>`
    SELECT s.osm_type, s.osm_id, s.category, s.name_ru AS name, s.lat, s.lon, s.content_hash,
           ${changeStateOf('s', 'osm')} AS change_state, s.wikidata
    FROM poi_ingestion_staging s JOIN cities c ON c.id = s.city_id
    WHERE c.slug = ${citySlug} ORDER BY s.osm_type, s.osm_id`.execute(db)
  return rows
}

/** Staging of every city emptied and cached boundaries forgotten, so each test starts from nothing. */
export async function resetStaging(db: Kysely<DB>): Promise<void> {
  await sql`DELETE FROM poi_ingestion_staging`.execute(db)
  await sql`DELETE FROM helper_place`.execute(db)
  await sql`UPDATE cities SET boundary = NULL, boundary_source = NULL, boundary_fetched_at = NULL`.execute(db)
}
