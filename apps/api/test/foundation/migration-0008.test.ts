import { type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { changeStateOf } from '../../src/modules/ingestion/index.js'
import type { Database } from '../../src/platform/db/client.js'
import { migrations } from '../../src/platform/db/migrations/index.js'
import { migrateToLatest } from '../../src/platform/db/migrator.js'
import { createEmptyDatabase } from '../helpers/empty-db.js'

const BEFORE = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0008'))
const LATER = Object.keys(migrations).filter((name) => name >= '0008')

/** Staged rows as a database before 0008 held them, each with the state it stored. */
const ROWS = [
  { osm_id: 1, stored: 'unchanged', first: 'a', changed: 'a', missingSince: null },
  { osm_id: 2, stored: 'new', first: 'b', changed: 'b', missingSince: null },
  { osm_id: 3, stored: 'changed', first: 'a', changed: 'b', missingSince: null },
  { osm_id: 4, stored: 'missing', first: 'a', changed: 'a', missingSince: '2024-01-02T00:00:00Z' },
] as const

describe('migration 0008: stored change states become derived ones', () => {
  let database: Database
  let db: Kysely<any>
  const runs: Record<string, string> = {}

  beforeAll(async () => {
    database = await createEmptyDatabase()
    db = database.db
    await migrateToLatest(db, BEFORE)
    const { rows: cities } = await sql<{ id: number }>`SELECT id FROM cities WHERE slug = 'moscow'`.execute(
      db,
    )
    const cityId = cities[0]!.id
    for (const [name, day] of [
      ['a', '2024-01-01'],
      ['b', '2024-01-02'],
    ] as const) {
      const { rows } = await sql<{ id: string }>`
        INSERT INTO ingestion_run (type, city_id, boundary_ref, run_date, idempotency_key, status, source,
                                   trigger, max_attempts, finished_at)
        VALUES ('osm', ${cityId}, '102269', ${day}, ${`osm|${name}`}, 'SUCCEEDED', '{}', 'cli', 1,
                ${`${day}T12:00:00Z`}::timestamptz)
        RETURNING id`.execute(db)
      runs[name] = rows[0]!.id
    }
    for (const r of ROWS) {
      await sql`
        INSERT INTO poi_ingestion_staging (city_id, osm_type, osm_id, category, name_ru, tags, lat, lon, source_url,
          license, attribution, content_hash, first_seen_run, last_seen_run, last_changed_run, change_state,
          missing_since)
        VALUES (${cityId}, 'node', ${r.osm_id}, 'museum', 'Музей', '{}', 55.75, 37.61,
          ${`https://www.openstreetmap.org/node/${r.osm_id}`}, 'ODbL-1.0', '© OpenStreetMap contributors', 'h',
          ${runs[r.first]}, ${runs.b}, ${runs[r.changed]}, ${r.stored}, ${r.missingSince})`.execute(db)
    }
  })
  afterAll(() => database.close())

  const derived = async () => {
    const { rows } = await sql<{ osm_id: number; state: string }>`
      SELECT osm_id, ${changeStateOf('s', 'osm')} AS state FROM poi_ingestion_staging s ORDER BY osm_id`.execute(
      db,
    )
    return rows.map((r) => [Number(r.osm_id), r.state])
  }

  it('derives for every row the state it had stored, and its down() stores them again', async () => {
    expect(await migrateToLatest(db)).toEqual(LATER)
    expect(await derived()).toEqual(ROWS.map((r) => [r.osm_id, r.stored]))

    for (const name of [...LATER].reverse()) await migrations[name]!.down!(db)
    const { rows } = await sql<{ osm_id: number; change_state: string; last_seen_run: string }>`
      SELECT osm_id, change_state, last_seen_run FROM poi_ingestion_staging ORDER BY osm_id`.execute(db)
    expect(rows.map((r) => [Number(r.osm_id), r.change_state])).toEqual(ROWS.map((r) => [r.osm_id, r.stored]))
  })
})
