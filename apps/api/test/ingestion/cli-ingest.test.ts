import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { buildDeps } from '../../src/bootstrap.js'
import { configFrom } from '../../src/config.js'
import { enqueueRun } from '../../src/modules/jobs/index.js'
import { systemClock } from '../../src/platform/clock.js'
import { openDatabase } from '../../src/platform/db/client.js'
import { createLogger } from '../../src/platform/log.js'
import { json } from '../helpers/http.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { spawnEntry } from '../helpers/process.js'
import { testContractObserver } from '../helpers/response-validation.js'
import { ADMIN_TOKEN } from '../helpers/test-app.js'
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-db.js'
import { tilemakerAvailable } from '../helpers/tilemaker.js'

describeWithOsmData('npm run cli -- ingest (local file, own process)', () => {
  let dir: string
  let database: TestDatabase | null = null
  let env: Record<string, string>
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gorod-cli-'))
    if (onPostgres) {
      database = await createTestDatabase()
      env = { DATABASE_URL: database.url!, WORK_DIR: join(dir, 'work'), BLOB_DIR: join(dir, 'blobs') }
    } else {
      env = { PGLITE_DIR: join(dir, 'pglite'), WORK_DIR: join(dir, 'work'), BLOB_DIR: join(dir, 'blobs') }
    }
  })
  afterAll(async () => {
    await database?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const ingest = (...extra: string[]) =>
    spawnEntry(
      'cli.ts',
      ['ingest', '--type', 'osm', '--city', 'sergiev-posad', '--date', '2026-06-01', ...extra],
      env,
    )

  it('records the run, executes it here, prints the stats as JSON and exits 0', async () => {
    const cli = ingest('--file', osmFile('sergiev-posad-lavra-2020.osm.pbf'), '--json')
    expect(await cli.exited).toBe(0)
    const job = JSON.parse(cli.stdout())
    expect(job).toMatchObject({
      status: 'SUCCEEDED',
      trigger: 'cli',
      idempotency_key: 'osm|sergiev-posad|171922|2026-06-01',
      source: { kind: 'file', name: 'sergiev-posad-lavra-2020.osm.pbf' },
    })
    expect(job.stats.new).toBeGreaterThan(10)
    expect(job.stats.kept).toBe(job.stats.new)
    // The city is published right after, as a queued osm run would chain it.
    expect(job.publish).toMatchObject({
      type: 'publish',
      status: 'SUCCEEDED',
      trigger: 'chain',
      run_date: '2026-06-01',
    })
    // And its basemap is built from the same file (or fails saying the builder is missing).
    expect(job.tiles).toMatchObject({
      type: 'tiles',
      trigger: 'chain',
      idempotency_key: 'tiles|sergiev-posad|171922|2026-06-01',
      status: tilemakerAvailable ? 'SUCCEEDED' : 'FAILED',
    })
    if (tilemakerAvailable) expect(job.tiles.stats.basemap.tiles).toBeGreaterThan(0)
    else expect(job.tiles.error.code).toBe('BASEMAP_BUILDER_MISSING')

    // The same record is what the API shows for that job.
    const config = configFrom(env)
    const db = await openDatabase(config.database)
    try {
      const app = createApp(
        buildDeps(configFrom({ ...env, ADMIN_API_TOKEN: ADMIN_TOKEN }), db, createLogger('silent'), {
          contractObserver: testContractObserver(),
        }),
      )
      const res = await app.request(`/v1/jobs/${job.id}`, { headers: { 'X-Admin-Token': ADMIN_TOKEN } })
      expect(await json(res)).toMatchObject({ id: job.id, status: 'SUCCEEDED', stats: job.stats })
      const staged = await db.db.selectFrom('poi_ingestion_staging').select('osm_id').execute()
      expect(staged).toHaveLength(job.stats.new)
      const lavra = await db.db
        .selectFrom('poi')
        .select(['name_ru', 'published', 'license'])
        .where('osm_id', '=', 219706573)
        .executeTakeFirst()
      expect(lavra).toMatchObject({ published: true, license: 'ODbL-1.0' })
    } finally {
      await db.close()
    }
  })

  it('asked again for the same key, shows the finished run instead of running it twice', async () => {
    const cli = ingest('--file', osmFile('sergiev-posad-lavra-2020.osm.pbf'), '--json')
    expect(await cli.exited).toBe(0)
    const job = JSON.parse(cli.stdout())
    expect(job.attempts).toBe(1)
  })

  it('exits non-zero with the reason when the file is not OSM data', async () => {
    const cli = spawnEntry(
      'cli.ts',
      ['ingest', '--type', 'helpers', '--city', 'sergiev-posad', '--file', osmFile('NOTICE.md'), '--json'],
      env,
    )
    expect(await cli.exited).toBe(1)
    const job = JSON.parse(cli.stdout())
    expect(job.status).toBe('FAILED')
    expect(job.error.code).toMatch(/^SOURCE_/)
  })

  it('a day that already has a failed Overpass run: says which run and what to do, exits 1', async () => {
    const config = configFrom(env)
    const db = await openDatabase(config.database)
    let failedId: string
    try {
      const { run } = await enqueueRun(
        { database: db, clock: systemClock, config, log: createLogger('silent'), jobs: null },
        {
          type: 'osm',
          city: 'sergiev-posad',
          date: '2026-06-02',
          source: { kind: 'overpass' },
          trigger: 'admin',
        },
      )
      failedId = run.id
      await db.db
        .updateTable('ingestion_run')
        .set({ status: 'FAILED', error_code: 'UPSTREAM_TIMEOUT', finished_at: new Date() })
        .where('id', '=', run.id)
        .execute()
    } finally {
      await db.close()
    }
    const cli = spawnEntry(
      'cli.ts',
      [
        'ingest',
        '--type',
        'osm',
        '--city',
        'sergiev-posad',
        '--date',
        '2026-06-02',
        '--file',
        osmFile('sergiev-posad-lavra-2020.osm.pbf'),
      ],
      env,
    )
    expect(await cli.exited).toBe(1)
    const advice = cli.stderr()
    expect(advice).toContain(`run ${failedId} (FAILED`)
    expect(advice).toContain('UPSTREAM_TIMEOUT')
    expect(advice).toContain('--date 2026-06-03')
    expect(advice).toContain(`POST /v1/admin/jobs/${failedId}/retry`)
  })

  it('refuses bad usage with exit code 2', async () => {
    const cli = spawnEntry('cli.ts', ['ingest', '--type', 'poi', '--city', 'moscow'], env)
    expect(await cli.exited).toBe(2)
    expect(cli.stderr()).toContain('--type osm|helpers')
  })
})
