import { readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'
import { resetStaging } from '../ingestion/pipeline-fixtures.js'
import { ingest, LAVRA, LAVRA_XML, publish } from './publish-fixtures.js'

let database: TestDatabase

beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database?.close()
})

interface PoiRow {
  id: number
  osm_type: string
  osm_id: number
  name_ru: string
  published: boolean
  unpublished_reason: string | null
  unpublished_at: Date | null
  sources: Array<Record<string, unknown>>
  license: string
  attribution: string
  wikidata: string | null
}

async function pois(): Promise<PoiRow[]> {
  const { rows } = await sql<PoiRow>`
    SELECT id, osm_type, osm_id, name_ru, published, unpublished_reason, unpublished_at, sources, license,
           attribution, wikidata
    FROM poi ORDER BY osm_type, osm_id`.execute(database.db)
  return rows
}

describeWithOsmData('publish: staged Sergiev Posad → poi through the gates', () => {
  it('publishes exactly the rows that pass every gate and records why the others do not', async () => {
    await sql`DELETE FROM poi`.execute(database.db)
    await resetStaging(database.db)
    await ingest(database.db, LAVRA_XML)
    const { stats } = await publish(database.db, 'sergiev-posad', { batchSize: 17 })

    const staged = await sql<{
      osm_id: number
      name_ru: string | null
      category: string
      gates_passed: boolean
      gate_results: Record<string, { passed: boolean; reason?: string; area?: string }>
    }>`SELECT osm_id, name_ru, category, gates_passed, gate_results FROM poi_ingestion_staging`.execute(
      database.db,
    )
    expect(staged.rows.length).toBe(stats.evaluated)
    expect(staged.rows.every((r) => r.gate_results !== null)).toBe(true)
    const passing = staged.rows.filter((r) => r.gates_passed)
    const published = await pois()
    expect(published.map((p) => p.osm_id).sort()).toEqual(passing.map((r) => r.osm_id).sort())
    expect(stats).toMatchObject({
      passed: passing.length,
      failed: staged.rows.length - passing.length,
      published: passing.length,
      unchanged: 0,
      unpublished: 0,
      withheld: staged.rows.length - passing.length,
      area: 'bbox',
    })
    // Rows without a Russian name stay out, with the reason recorded on the row.
    const unnamed = staged.rows.filter((r) => r.name_ru === null)
    for (const r of unnamed) {
      expect(r.gates_passed).toBe(false)
      expect(r.gate_results.ru_name).toMatchObject({
        passed: false,
        reason: expect.stringMatching(/Russian name/),
      })
    }
    expect(stats.gates.ru_name.failed).toBe(unnamed.length)
    // Every staged row was judged against the bbox: the extract holds no boundary polygon.
    expect(new Set(staged.rows.map((r) => r.gate_results.in_city?.area))).toEqual(new Set(['bbox']))
    // Non-public categories are withheld.
    for (const r of staged.rows.filter((r) => r.category === 'plaque')) expect(r.gates_passed).toBe(false)

    const lavra = published.find((p) => p.osm_id === LAVRA.osm_id)
    expect(lavra).toMatchObject({
      name_ru: 'Троице-Сергиева лавра',
      wikidata: LAVRA.wikidata,
      published: true,
      license: 'ODbL-1.0',
      attribution: expect.stringContaining('OpenStreetMap'),
    })
    expect(lavra!.sources).toEqual([
      expect.objectContaining({
        type: 'osm',
        osm_type: 'way',
        osm_id: LAVRA.osm_id,
        url: 'https://www.openstreetmap.org/way/219706573',
      }),
    ])

    // Published again with nothing changed: nothing written.
    const again = await publish(database.db)
    expect(again.stats).toMatchObject({ published: 0, unchanged: passing.length, unpublished: 0 })
  })

  it('a later ingestion where the Lavra disappeared and a hill lost its Russian name unpublishes both, keeping the rows', async () => {
    await sql`DELETE FROM poi`.execute(database.db)
    await resetStaging(database.db)
    await ingest(database.db, LAVRA_XML)
    await publish(database.db)
    const before = await pois()
    const hill = before.find((p) => p.name_ru === 'Блинная гора')
    expect(hill?.published).toBe(true)

    const xml = await readFile(LAVRA_XML, 'utf8')
    const modified = xml
      .replace(/<way id='219706573'[\s\S]*?<\/way>\n/, '')
      .replace("v='Блинная гора'", "v='Blinnaya gora'")
    const path = join(tmpdir(), `lavra-changed-${process.pid}.osm`)
    await writeFile(path, modified)
    try {
      await ingest(database.db, path)
    } finally {
      await rm(path, { force: true })
    }
    const { stats } = await publish(database.db)
    expect(stats.unpublished).toBe(2)
    const after = await pois()
    expect(after).toHaveLength(before.length)
    const lavra = after.find((p) => p.osm_id === LAVRA.osm_id)!
    expect(lavra).toMatchObject({
      published: false,
      unpublished_reason: expect.stringMatching(/^present: missing/),
    })
    expect(lavra.unpublished_at).toBeInstanceOf(Date)
    const renamed = after.find((p) => p.osm_id === hill!.osm_id)!
    expect(renamed.published).toBe(false)
    expect(renamed.unpublished_reason).toMatch(/ru_name: no Russian name/)

    // Back in the next ingestion: published again.
    await ingest(database.db, LAVRA_XML)
    const back = await publish(database.db)
    expect(back.stats.published).toBe(2)
    expect((await pois()).find((p) => p.osm_id === LAVRA.osm_id)).toMatchObject({
      published: true,
      unpublished_reason: null,
    })
  })

  it('a run cut into slices resumes at its checkpoint and counts every row once', async () => {
    await sql`DELETE FROM poi`.execute(database.db)
    let calls = 0
    const sliced = await publish(database.db, 'sergiev-posad', {
      batchSize: 10,
      shouldYield: () => ++calls % 2 === 0,
    })
    expect(sliced.deliveries).toBeGreaterThan(2)
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM poi_ingestion_staging`.execute(
      database.db,
    )
    expect(sliced.stats.evaluated).toBe(rows[0]!.n)
    expect(sliced.stats.published).toBe((await pois()).length)
  })
})

describe('poi table: the database refuses a public POI without sources or licence', () => {
  async function stagedId(): Promise<number> {
    const { rows } = await sql<{ id: number }>`SELECT id FROM poi_ingestion_staging LIMIT 1`.execute(
      database.db,
    )
    if (rows[0]) return rows[0].id
    throw new Error('no staged row: the publish tests above must stage the extract first')
  }
  const insert = (id: number, sources: string, license: string, attribution: string) =>
    sql`INSERT INTO poi (staging_id, city_id, osm_type, osm_id, category, name_ru, lat, lon, geo, sources, license,
                         attribution, staging_hash)
        VALUES (${id}, 1, 'node', 999999999, 'museum', 'Музей', 56.3, 38.13, point(0, 0), ${sources}::jsonb,
                ${license}, ${attribution}, 'h')`.execute(database.db)

  it.each([
    ['empty sources', '[]', 'ODbL-1.0', '© OpenStreetMap contributors'],
    ['sources not a list', '{}', 'ODbL-1.0', '© OpenStreetMap contributors'],
    ['empty licence', '[{"type":"osm"}]', ' ', '© OpenStreetMap contributors'],
    ['empty attribution', '[{"type":"osm"}]', 'ODbL-1.0', ''],
  ])('%s → check violation', async (_name, sources, license, attribution) => {
    const id = await stagedId().catch(() => null)
    if (id === null) return
    await sql`DELETE FROM poi WHERE staging_id = ${id}`.execute(database.db)
    await expect(insert(id, sources, license, attribution)).rejects.toThrow(/check constraint/)
  })

  it('NULL sources → not-null violation', async () => {
    const id = await stagedId().catch(() => null)
    if (id === null) return
    await sql`DELETE FROM poi WHERE staging_id = ${id}`.execute(database.db)
    await expect(
      sql`INSERT INTO poi (staging_id, city_id, osm_type, osm_id, category, name_ru, lat, lon, geo, license,
                           attribution, staging_hash)
          VALUES (${id}, 1, 'node', 999999999, 'museum', 'Музей', 56.3, 38.13, point(0, 0), 'ODbL-1.0', 'x', 'h')`.execute(
        database.db,
      ),
    ).rejects.toThrow(/null value in column "sources"/)
  })
})
