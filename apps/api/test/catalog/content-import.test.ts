import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { importContent, localMediaStore } from '../../src/modules/catalog/index.js'
import { json } from '../helpers/http.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { ingest, LAVRA_XML, publish, SHABOLOVKA_XML } from '../publishing/publish-fixtures.js'
import { png } from './media-fixtures.js'

const CONTENT = resolve(import.meta.dirname, '../../../../content')
const limits = { maxImageBytes: 10_000_000, maxAudioBytes: 10_000_000 }

describeWithOsmData('content import', () => {
  let t: TestApp
  let tmp: string
  const run = (dir: string) =>
    importContent(t.deps.database.db, localMediaStore(join(tmp, 'media')), limits, dir)

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'gorod-content-'))
    t = await createTestApp({ MEDIA_DIR: join(tmp, 'media') })
    const db = t.deps.database.db
    await ingest(db, LAVRA_XML, 'sergiev-posad')
    await publish(db, 'sergiev-posad')
    await ingest(db, SHABOLOVKA_XML, 'moscow')
    await publish(db, 'moscow')
  }, 180_000)
  afterAll(async () => {
    await t?.close()
    await rm(tmp, { recursive: true, force: true })
  })

  it('imports the shipped content onto real published POIs: free and paid tours in both cities', async () => {
    const report = await run(CONTENT)
    expect(report.entries.filter((e) => e.outcome === 'failed')).toEqual([])
    expect(report).toMatchObject({ created: 8, changed: 0, unchanged: 0, failed: 0 })
    for (const [key, city] of [
      [DEV_KEYS.gorod, 'moscow'],
      [DEV_KEYS.gorod, 'sergiev-posad'],
      [DEV_KEYS.progulki, 'moscow'],
      [DEV_KEYS.progulki, 'sergiev-posad'],
    ] as const) {
      const catalog = await json(
        await t.app.request(`/v1/cities/${city}/catalog?platform=android`, { headers: { 'X-App-Key': key } }),
      )
      const access = catalog.items.map((i: { access: string }) => i.access).sort()
      expect(access, `${key} ${city}`).toEqual(['free', 'locked'])
      const free = catalog.items.find((i: { access: string }) => i.access === 'free')
      const tour = await json(
        await t.app.request(`/v1/tours/${free.tours[0].id}`, { headers: { 'X-App-Key': key } }),
      )
      expect(tour.stops.every((s: { narration_ru?: string }) => s.narration_ru)).toBe(true)
      expect(tour.length_m).toBeGreaterThan(0)
    }
  })

  it('is idempotent: the same files again change nothing and make no version', async () => {
    const versions = async () =>
      (await t.deps.database.db.selectFrom('tour_version').select('id').execute()).length
    const before = await versions()
    const report = await run(CONTENT)
    expect(report).toMatchObject({ created: 0, changed: 0, unchanged: 8, failed: 0 })
    expect(await versions()).toBe(before)
  })

  it('reports a changed tour and a file naming an unknown POI, with media beside the files', async () => {
    const dir = join(tmp, 'content')
    await cp(CONTENT, dir, { recursive: true })
    const file = join(dir, 'moscow', 'shukhov-tower.yaml')
    const text = await readFile(file, 'utf8')
    await writeFile(join(dir, 'moscow', 'cover.png'), png(40, 20))
    await writeFile(
      file,
      text
        .replace('построена в 1922 году', 'построена в 1922 году (новая редакция)')
        .replace(
          '  duration_min: 30\n',
          '  duration_min: 30\n  cover:\n    file: cover.png\n    author: Проект «Город»\n    license: CC-BY-4.0\n    source_url: https://example.org/cover\n',
        ),
    )
    await writeFile(
      join(dir, 'moscow', 'broken.yaml'),
      'tour:\n  slug: broken\n  title_ru: Сломанный\n  summary_ru: Тест\n  description_ru: Тест\n  duration_min: 10\n  stops:\n    - poi: node/1\n      narration_ru: Текст\n      trigger_radius_m: 50\n',
    )
    const report = await run(dir)
    expect(report.entries.find((e) => e.slug === 'shukhov-tower')).toMatchObject({ outcome: 'changed' })
    expect(report.entries.find((e) => e.slug === 'broken')).toMatchObject({
      outcome: 'failed',
      errors: [expect.stringMatching(/node\/1 is not a published POI of moscow/)],
    })
    expect(report).toMatchObject({ changed: 1, unchanged: 7, failed: 1 })
  })
})
