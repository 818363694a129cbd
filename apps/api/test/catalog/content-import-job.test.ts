import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildJobHandlers } from '../../src/jobs-runtime.js'
import { enqueueContentImportsOnStart } from '../../src/modules/catalog/index.js'
import { dateInZone, systemClock } from '../../src/platform/clock.js'
import { executeRun } from '../../src/platform/jobs/worker.js'
import { json } from '../helpers/http.js'
import { insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { freePort, spawnEntry, waitForHealth } from '../helpers/process.js'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app.js'
import { ingest, LAVRA_XML } from '../publishing/publish-fixtures.js'

const CONTENT = resolve(import.meta.dirname, '../../../../content')
const admin = { 'X-Admin-Token': ADMIN_TOKEN }

describeWithOsmData('content import job', () => {
  let t: TestApp
  let tmp: string
  const handlers = () =>
    buildJobHandlers(t.deps.config, t.deps.log, 'test', {
      database: t.deps.database,
      clock: systemClock,
      queue: () => null,
    })
  const work = (id: string) =>
    executeRun(id, { db: t.deps.database.db, log: t.deps.log, handlers: handlers(), leaseSeconds: 60 })
  const job = async (id: string) => json(await t.app.request(`/v1/jobs/${id}`, { headers: admin }))
  const importRuns = async () =>
    (
      await sql<{ id: string; city: string; status: string; trigger: string; run_date: string }>`
        SELECT r.id, c.slug AS city, r.status, r.trigger, r.run_date FROM ingestion_run r
        JOIN cities c ON c.id = r.city_id WHERE r.type = 'content_import' ORDER BY c.slug, r.created_at`.execute(
        t.deps.database.db,
      )
    ).rows

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'gorod-content-job-'))
    // Nothing ingested yet: no city has a published POI.
    t = await createTestApp({ CONTENT_DIR: CONTENT, MEDIA_DIR: join(tmp, 'media'), WORK_DIR: join(tmp, 'w') })
  })
  afterAll(async () => {
    await t?.close()
    await rm(tmp, { recursive: true, force: true })
  })

  it('on start enqueues one run per city with content; unpublished POIs end it FAILED, naming them', async () => {
    const deps = { ...t.deps, jobs: null }
    const started = await enqueueContentImportsOnStart(deps)
    expect(started.map((s) => s.run.city_slug)).toEqual(['moscow', 'sergiev-posad'])
    const runs = await importRuns()
    expect(runs.map((r) => [r.city, r.status, r.trigger])).toEqual([
      ['moscow', 'QUEUED', 'start'],
      ['sergiev-posad', 'QUEUED', 'start'],
    ])
    for (const r of runs)
      expect(await work(r.id)).toMatchObject({ outcome: 'failed', code: 'CITY_NOT_PUBLISHED' })
    const sp = await job(runs[1]!.id)
    expect(sp).toMatchObject({
      type: 'content_import',
      status: 'FAILED',
      idempotency_key: `content_import|sergiev-posad|171922|${runs[1]!.run_date}`,
      error: { code: 'CITY_NOT_PUBLISHED', message: expect.stringMatching(/no published POIs yet/) },
      stats: { created: 0, changed: 0, unchanged: 0, failed: 4 },
    })
    expect(sp.error.message).toMatch(/(node|way|relation)\/\d+ is not a published POI of sergiev-posad/)
    // A second start the same day: the same runs, the failed ones queued again (no new run).
    const again = await enqueueContentImportsOnStart(deps)
    expect(again.map((a) => [a.deduplicated, a.retried, a.run.status])).toEqual([
      [true, true, 'QUEUED'],
      [true, true, 'QUEUED'],
    ])
    expect((await importRuns()).length).toBe(2)
    const city = await t.deps.database.db
      .selectFrom('cities')
      .select('timezone')
      .where('slug', '=', 'sergiev-posad')
      .executeTakeFirstOrThrow()
    expect(runs[1]!.run_date).toBe(dateInZone(new Date(), city.timezone))
  })

  it('a publish that succeeds chains the import of its city: the failed run of the day runs again and imports', async () => {
    const db = t.deps.database.db
    const [, sp] = await importRuns()
    // The run queued again by the second start fails again: still nothing published.
    expect(await work(sp!.id)).toMatchObject({ outcome: 'failed', code: 'CITY_NOT_PUBLISHED' })
    await ingest(db, LAVRA_XML, 'sergiev-posad')
    const publishId = await insertRunningRun(db, { citySlug: 'sergiev-posad', type: 'publish' as 'osm' })
    await db
      .updateTable('ingestion_run')
      .set({ run_date: sp!.run_date })
      .where('id', '=', publishId)
      .execute()
    await runToCompletion(db, handlers().publish!, publishId)
    const after = await importRuns()
    expect(after.length).toBe(2)
    expect(after[1]).toMatchObject({ id: sp!.id, status: 'QUEUED' })
    expect(await work(sp!.id)).toMatchObject({ outcome: 'succeeded' })
    const done = await job(sp!.id)
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      error: null,
      stats: { created: 4, changed: 0, unchanged: 0, failed: 0 },
    })
    expect(done.stats.entries.map((e: { outcome: string }) => e.outcome)).toEqual([
      'created',
      'created',
      'created',
      'created',
    ])
    const tours = await db.selectFrom('tour').select('status').execute()
    expect(tours.map((r) => r.status)).toEqual(['published', 'published'])
  })

  it('the admin route enqueues idempotently; the same files again are recorded unchanged', async () => {
    const post = (city: string, body?: object) =>
      t.app.request(`/v1/admin/content/${city}/import`, {
        method: 'POST',
        headers: body ? { ...admin, 'Content-Type': 'application/json' } : admin,
        ...(body ? { body: JSON.stringify(body) } : {}),
      })
    const versions = async () =>
      (await t.deps.database.db.selectFrom('tour_version').select('id').execute()).length
    const before = await versions()
    const first = await post('sergiev-posad', { date: '2030-01-02' })
    expect(first.status).toBe(202)
    const body = await json(first)
    expect(body).toMatchObject({
      type: 'content_import',
      status: 'QUEUED',
      city: 'sergiev-posad',
      idempotency_key: 'content_import|sergiev-posad|171922|2030-01-02',
      deduplicated: false,
    })
    expect(first.headers.get('Location')).toBe(`/v1/jobs/${body.job_id}`)
    const second = await post('sergiev-posad', { date: '2030-01-02' })
    expect(second.headers.get('Idempotent-Replayed')).toBe('true')
    expect(await json(second)).toMatchObject({ job_id: body.job_id, deduplicated: true })
    expect(await work(body.job_id)).toMatchObject({ outcome: 'succeeded' })
    expect((await job(body.job_id)).stats).toMatchObject({ created: 0, changed: 0, unchanged: 4, failed: 0 })
    expect(await versions()).toBe(before)

    expect((await post('kazan')).status).toBe(404)
    expect((await json(await post('kazan'))).code).toBe('CONTENT_NOT_FOUND')
    expect((await post('atlantis')).status).toBe(404)
    const anonymous = await t.app.request('/v1/admin/content/moscow/import', { method: 'POST' })
    expect(anonymous.status).toBe(401)
  })
})

describe('the service process', () => {
  it('enqueues and works the content import of each city with content when it starts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gorod-start-import-'))
    try {
      const port = await freePort()
      const proc = spawnEntry('main.ts', [], {
        PORT: String(port),
        PGLITE_DIR: join(dir, 'pglite'),
        ADMIN_API_TOKEN: ADMIN_TOKEN,
        CONTENT_DIR: CONTENT,
        MEDIA_DIR: join(dir, 'media'),
        WORK_DIR: join(dir, 'work'),
      })
      try {
        await waitForHealth(port, proc)
        let items: Array<{ city: string; status: string; trigger: string; error: { code: string } | null }> =
          []
        for (let i = 0; i < 600; i++) {
          const res = await fetch(`http://127.0.0.1:${port}/v1/admin/jobs?type=content_import`, {
            headers: admin,
          })
          items = ((await res.json()) as { items: typeof items }).items
          if (items.length === 2 && items.every((j) => j.status === 'FAILED')) break
          await new Promise((r) => setTimeout(r, 100))
        }
        expect(items.map((j) => [j.city, j.status, j.trigger, j.error?.code]).sort()).toEqual([
          ['moscow', 'FAILED', 'start', 'CITY_NOT_PUBLISHED'],
          ['sergiev-posad', 'FAILED', 'start', 'CITY_NOT_PUBLISHED'],
        ])
      } finally {
        proc.child.kill('SIGTERM')
        await proc.exited
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
