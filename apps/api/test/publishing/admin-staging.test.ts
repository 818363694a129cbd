import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'
import { resetStaging } from '../ingestion/pipeline-fixtures.js'
import { ingest, LAVRA, LAVRA_XML } from './publish-fixtures.js'

let t: TestApp
let tmp: string

beforeAll(async () => {
  t = await createTestApp()
  tmp = await mkdtemp(join(tmpdir(), 'gorod-admin-staging-'))
})
afterAll(async () => {
  await t?.close()
  await rm(tmp, { recursive: true, force: true })
})

interface Staged {
  osm_type: string
  osm_id: number
  name_ru: string | null
  change_state: string
}

/** Every staged POI of the city as the admin listing shows it, page after page. */
async function listing(): Promise<Staged[]> {
  const out: Staged[] = []
  let cursor: string | null = null
  do {
    const res = await t.app.request(
      `/v1/admin/staging?city=sergiev-posad&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      { headers: { 'X-Admin-Token': ADMIN_TOKEN } },
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as { items: Staged[]; next_cursor: string | null }
    out.push(...body.items)
    cursor = body.next_cursor
  } while (cursor)
  return out
}

const statesOf = (rows: Staged[]) => {
  const counts: Record<string, number> = {}
  for (const r of rows) counts[r.change_state] = (counts[r.change_state] ?? 0) + 1
  return counts
}

describeWithOsmData('GET /v1/admin/staging: change states as of the latest successful run', () => {
  it('new after a first run, unchanged after the same data again, changed and missing after an edit', async () => {
    const { db } = t.database
    await resetStaging(db)
    const first = await ingest(db, LAVRA_XML)
    const kept = (first.outcome.stats as { kept: number }).kept
    expect(statesOf(await listing())).toEqual({ new: kept })

    await ingest(db, LAVRA_XML)
    expect(statesOf(await listing())).toEqual({ unchanged: kept })

    const xml = await readFile(LAVRA_XML, 'utf8')
    const edited = xml
      .replace(/<way id='219706573'[\s\S]*?<\/way>\n/, '')
      .replace("v='Блинная гора'", "v='Блинная гора (смотровая)'")
    const path = join(tmp, 'edited.osm')
    await writeFile(path, edited)
    await ingest(db, path)
    const rows = await listing()
    expect(statesOf(rows)).toEqual({ unchanged: kept - 2, changed: 1, missing: 1 })
    expect(rows.find((r) => r.osm_id === LAVRA.osm_id)?.change_state).toBe('missing')
    expect(rows.find((r) => r.name_ru === 'Блинная гора (смотровая)')?.change_state).toBe('changed')
  })
})
