import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../apps/api/src/app.js'
import { buildDeps, prepareDatabase } from '../apps/api/src/bootstrap.js'
import { configFrom } from '../apps/api/src/config.js'
import { buildCityPack } from '../apps/api/src/modules/packs/index.js'
import { localBlobStore } from '../apps/api/src/platform/blobs/blob-store.js'
import { createLogger } from '../apps/api/src/platform/log.js'
import {
  ingest,
  ingestHelpers,
  publish,
  SHABOLOVKA_XML,
} from '../apps/api/test/publishing/publish-fixtures.js'
import { round } from './lib/service.js'

/**
 * City pack on the real Shabolovka extract (Moscow), on a throwaway embedded database: the first
 * build (GeoJSON files, record hashes, blobs), an unchanged rebuild (reused), a build after one POI
 * changed; then the signed manifest and one blob served in process, next to health the same way.
 */
const REQUESTS = 500

async function perSecond(n: number, op: () => Response | Promise<Response>) {
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const res = await op()
    if (res.status !== 200) throw new Error(`status ${res.status}`)
    await res.arrayBuffer()
  }
  return round(n / ((performance.now() - started) / 1000))
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'gorod-bench-packs-'))
  const config = configFrom({
    PGLITE_DIR: 'memory://',
    BLOB_DIR: join(dir, 'blobs'),
    MEDIA_DIR: join(dir, 'media'),
  })
  const log = createLogger('silent')
  const database = await prepareDatabase(config, log)
  try {
    const { db } = database
    await ingest(db, SHABOLOVKA_XML, 'moscow')
    await ingestHelpers(db, SHABOLOVKA_XML, 'moscow')
    await publish(db, 'moscow')
    const city = await db
      .selectFrom('cities')
      .select('id')
      .where('slug', '=', 'moscow')
      .executeTakeFirstOrThrow()
    const blobs = localBlobStore(config.blobDir)
    const time = async () => {
      const started = performance.now()
      const pack = await buildCityPack(db, blobs, city, { keep: 3 })
      return { ms: round(performance.now() - started), pack }
    }
    const first = await time()
    const unchanged = await time()
    const poi = await db
      .selectFrom('poi')
      .select('id')
      .where('city_id', '=', city.id)
      .limit(1)
      .executeTakeFirstOrThrow()
    await db.updateTable('poi').set({ name_ru: 'Изменённое название' }).where('id', '=', poi.id).execute()
    const changed = await time()
    const counts = await db
      .selectFrom('city_pack')
      .select(['poi_count', 'helper_count'])
      .where('id', '=', changed.pack.id)
      .executeTakeFirstOrThrow()

    const app = createApp(buildDeps(config, database, log))
    const key = { 'X-App-Key': 'dev-gorod-app-key' }
    const manifestUrl = '/v1/cities/moscow/pack.json?platform=ios'
    await (await app.request(manifestUrl, { headers: key })).arrayBuffer()
    const pois = changed.pack.files.find((f) => f.role === 'pois')!
    return {
      records: counts,
      files: Object.fromEntries(changed.pack.files.map((f) => [f.role, { bytes: f.bytes }])),
      build_first_ms: first.ms,
      build_unchanged_ms: unchanged.ms,
      build_after_change_ms: changed.ms,
      versions: [first.pack.version, unchanged.pack.version, changed.pack.version],
      in_process_per_s: {
        health: await perSecond(REQUESTS, () => app.request('/v1/api/health')),
        manifest_signed: await perSecond(REQUESTS, () => app.request(manifestUrl, { headers: key })),
        pois_blob: await perSecond(REQUESTS, () =>
          app.request(`/v1/blobs/sha256/${pois.sha256}`, { headers: key }),
        ),
      },
    }
  } finally {
    await database.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
