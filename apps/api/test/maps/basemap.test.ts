import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { VectorTile } from '@mapbox/vector-tile'
import { sql } from 'kysely'
import { PbfReader } from 'pbf'
import { PMTiles, zxyToTileId as readerTileId } from 'pmtiles'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildJobHandlers } from '../../src/jobs-runtime.js'
import { createIngestionHandlers } from '../../src/modules/ingestion/index.js'
import { enqueueRun } from '../../src/modules/jobs/index.js'
import { saveBasemap } from '../../src/modules/maps/basemap.queries.js'
import { tileRange } from '../../src/modules/maps/basemap-build.js'
import { extractKeeper } from '../../src/modules/maps/index.js'
import { writePmtiles, zxyToTileId } from '../../src/modules/maps/pmtiles-writer.js'
import { localBlobStore } from '../../src/platform/blobs/blob-store.js'
import { systemClock } from '../../src/platform/clock.js'
import { executeRun } from '../../src/platform/jobs/worker.js'
import { createLogger } from '../../src/platform/log.js'
import { insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { describeWithTilemaker } from '../helpers/tilemaker.js'

const PBF = osmFile('sergiev-posad-lavra-2020.osm.pbf')
const log = createLogger('silent')

let t: TestApp
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorod-basemap-'))
  t = await createTestApp({ BLOB_DIR: join(dir, 'blobs'), WORK_DIR: join(dir, 'work') })
})
afterAll(async () => {
  await t?.close()
  await rm(dir, { recursive: true, force: true })
})

const deps = () => ({ database: t.database, clock: systemClock, config: t.deps.config, log, jobs: null })
const handlers = () => buildJobHandlers(t.deps.config, log, 'test', undefined, t.database)

async function execute(runId: string, filePath?: string) {
  await executeRun(runId, {
    db: t.database.db,
    log,
    handlers: handlers(),
    leaseSeconds: 60,
    local: filePath ? { filePath } : {},
  })
  return t.database.db
    .selectFrom('ingestion_run')
    .select(['status', 'error_code', 'error_message', 'stats', 'idempotency_key'])
    .where('id', '=', runId)
    .executeTakeFirstOrThrow()
}

/** An osm run of the Sergiev Posad PBF through the worker: it keeps the city's extract. */
async function ingestPbf(date: string) {
  const { run } = await enqueueRun(deps(), {
    type: 'osm',
    city: 'sergiev-posad',
    date,
    source: { kind: 'file', name: 'sergiev-posad-lavra-2020.osm.pbf' },
    trigger: 'cli',
  })
  const done = await execute(run.id, PBF)
  expect(done.status).toBe('SUCCEEDED')
  return run
}

async function tilesRun(city: string, date: string) {
  const { run } = await enqueueRun(deps(), {
    type: 'tiles',
    city,
    date,
    source: { kind: 'file', name: 'x.osm.pbf' },
    trigger: 'admin',
  })
  return run
}

function bufferSource(buf: Buffer) {
  return {
    getKey: () => 'archive',
    getBytes: async (offset: number, length: number) => ({
      data: buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + length) as ArrayBuffer,
    }),
  }
}

describe('PMTiles writer', () => {
  it('numbers tiles on the Hilbert curve of the spec (as the pmtiles reader does)', () => {
    for (const [z, x, y] of [
      [0, 0, 0],
      [1, 1, 0],
      [5, 17, 9],
      [12, 2466, 1270],
      [14, 9926, 5062],
    ] as const)
      expect(zxyToTileId(z, x, y)).toBe(readerTileId(z, x, y))
  })

  it('writes leaf directories when the root would pass 16 KiB, and every tile reads back', async () => {
    // A sparse pyramid (every third tile kept, a fixed pattern) of distinct tiles of varied size: the
    // directory of ~100 k entries does not fit the 16 KiB root.
    const tiles: Array<{ z: number; x: number; y: number; data: Buffer }> = []
    let seed = 7
    for (let z = 0; z <= 9; z++)
      for (let x = 0; x < 2 ** z; x++)
        for (let y = 0; y < 2 ** z; y++) {
          seed = (seed * 1103515245 + 12345) % 2 ** 31
          if (z > 2 && seed % 3 !== 0) continue
          tiles.push({ z, x, y, data: Buffer.from(`${z}/${x}/${y}`.padEnd(8 + (seed % 50), '.')) })
        }
    const bytes = writePmtiles(tiles, {
      tileCompression: 1,
      tileType: 1,
      bounds: [-180, -85, 180, 85],
      center: [0, 0, 0],
      metadata: { name: 'test' },
    })
    const p = new PMTiles(bufferSource(bytes))
    const h = await p.getHeader()
    expect(h.leafDirectoryLength).toBeGreaterThan(0)
    expect(h.rootDirectoryLength + 127).toBeLessThanOrEqual(16_384)
    expect(h.numAddressedTiles).toBe(tiles.length)
    for (let i = 0; i < tiles.length; i += 97) {
      const tile = tiles[i]!
      const got = await p.getZxy(tile.z, tile.x, tile.y)
      expect(Buffer.from(got!.data).toString()).toBe(tile.data.toString())
    }
  })

  it('stores identical tiles once', async () => {
    const same = Buffer.from('same')
    const bytes = writePmtiles(
      [
        { z: 1, x: 0, y: 0, data: same },
        { z: 1, x: 0, y: 1, data: same },
        { z: 1, x: 1, y: 1, data: same },
        { z: 1, x: 1, y: 0, data: Buffer.from('other') },
      ],
      { tileCompression: 1, tileType: 1, bounds: [-1, -1, 1, 1], center: [0, 0, 1], metadata: {} },
    )
    const h = await new PMTiles(bufferSource(bytes)).getHeader()
    expect(h.numAddressedTiles).toBe(4)
    expect(h.numTileContents).toBe(2)
    expect(h.numTileEntries).toBe(2)
  })
})

describeWithOsmData('tiles job: failures with a reason', () => {
  it('a city without an extract file ends FAILED saying so', async () => {
    const run = await tilesRun('moscow', '2026-01-01')
    const done = await execute(run.id)
    expect(done.status).toBe('FAILED')
    expect(done.error_code).toBe('BASEMAP_NO_EXTRACT')
    expect(done.error_message).toMatch(/moscow.*extract/)
  })

  it('without tilemaker on PATH the run ends FAILED naming the package, and no basemap is recorded', async () => {
    await ingestPbf('2026-01-02')
    const extract = await sql<{ sha256: string }>`
      SELECT e.sha256 FROM city_extract e JOIN cities c ON c.id = e.city_id
      WHERE c.slug = 'sergiev-posad'`.execute(t.database.db)
    expect(extract.rows[0]?.sha256).toMatch(/^[0-9a-f]{64}$/)
    const run = await tilesRun('sergiev-posad', '2026-01-02')
    const path = process.env.PATH
    process.env.PATH = join(dir, 'empty-bin')
    try {
      const done = await execute(run.id)
      expect(done.status).toBe('FAILED')
      expect(done.error_code).toBe('BASEMAP_BUILDER_MISSING')
      expect(done.error_message).toContain('tilemaker')
      expect(done.error_message).toContain('apt-get install -y tilemaker')
    } finally {
      process.env.PATH = path
    }
    const { rows } = await sql`SELECT 1 FROM city_basemap`.execute(t.database.db)
    expect(rows).toHaveLength(0)
  })

  it('an osm run of an extract download keeps that PBF as the city extract', async () => {
    const bytes = await readFile(PBF)
    const fetchPbf = (async () =>
      new Response(new Uint8Array(bytes), { status: 200 })) as unknown as typeof fetch
    const { osm } = createIngestionHandlers({
      config: t.deps.config,
      log,
      version: 'test',
      fetch: fetchPbf,
      keepExtract: extractKeeper({ blobs: localBlobStore(t.deps.config.blobDir) }),
    })
    const url = 'https://extracts.example/sergiev-posad.osm.pbf'
    const runId = await insertRunningRun(t.database.db, { source: { kind: 'extract', url } })
    await runToCompletion(t.database.db, osm, runId)
    const { rows } = await sql<{ sha256: string; bytes: string; source: unknown; run_id: string }>`
      SELECT e.sha256, e.bytes, e.source, e.run_id FROM city_extract e JOIN cities c ON c.id = e.city_id
      WHERE c.slug = 'sergiev-posad'`.execute(t.database.db)
    expect(rows[0]).toMatchObject({ run_id: runId, source: { kind: 'extract', url } })
    expect(rows[0]!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect(await localBlobStore(t.deps.config.blobDir).size(rows[0]!.sha256)).toBe(bytes.length)
  })

  it('a successful osm run of a file chains the tiles run of the same key', async () => {
    const chained = buildJobHandlers(t.deps.config, log, 'test', {
      database: t.database,
      clock: systemClock,
      queue: () => null,
    })
    const { run } = await enqueueRun(deps(), {
      type: 'osm',
      city: 'sergiev-posad',
      date: '2026-01-03',
      source: { kind: 'file', name: 'sergiev-posad-lavra-2020.osm.pbf' },
      trigger: 'cli',
    })
    await executeRun(run.id, {
      db: t.database.db,
      log,
      handlers: chained,
      leaseSeconds: 60,
      local: { filePath: PBF },
    })
    const tiles = await t.database.db
      .selectFrom('ingestion_run')
      .select(['status', 'source', 'trigger'])
      .where('idempotency_key', '=', `tiles|sergiev-posad|${run.boundary_ref}|2026-01-03`)
      .executeTakeFirst()
    expect(tiles).toMatchObject({ status: 'QUEUED', trigger: 'chain' })
    expect(tiles!.source).toEqual({ kind: 'file', name: 'sergiev-posad-lavra-2020.osm.pbf' })
  })
})

describeWithOsmData('basemap route', () => {
  const url = '/v1/cities/sergiev-posad/basemap.pmtiles'
  const get = (headers: Record<string, string> = {}) =>
    t.app.request(url, { headers: { 'X-App-Key': DEV_KEYS.gorod, ...headers } })
  let archive: Buffer
  let sha: string

  it('answers 404 before a basemap is built', async () => {
    await sql`DELETE FROM city_basemap`.execute(t.database.db)
    const res = await get()
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
  })

  it('serves the archive: whole, ranges, If-Range, strong ETag, 304 and 416', async () => {
    archive = writePmtiles(
      [
        { z: 0, x: 0, y: 0, data: gzipSync(Buffer.from('a')) },
        { z: 1, x: 1, y: 0, data: gzipSync(Buffer.from('b')) },
      ],
      {
        tileCompression: 2,
        tileType: 1,
        bounds: [38, 56, 38.3, 56.4],
        center: [38.1, 56.3, 1],
        metadata: {},
      },
    )
    const stored = await localBlobStore(t.deps.config.blobDir).putBytes(archive)
    sha = stored.sha256
    const city = await t.database.db
      .selectFrom('cities')
      .select('id')
      .where('slug', '=', 'sergiev-posad')
      .executeTakeFirstOrThrow()
    const runId = (await tilesRun('sergiev-posad', '2026-02-01')).id
    await saveBasemap(t.database.db, {
      city_id: city.id,
      sha256: sha,
      bytes: stored.bytes,
      run_id: runId,
      min_zoom: 0,
      max_zoom: 1,
      bounds: [38, 56, 38.3, 56.4],
      tile_count: 2,
    })
    const etag = `"${sha}"`

    const whole = await get()
    expect(whole.status).toBe(200)
    expect(whole.headers.get('etag')).toBe(etag)
    expect(whole.headers.get('accept-ranges')).toBe('bytes')
    expect(whole.headers.get('content-type')).toBe('application/vnd.pmtiles')
    expect(whole.headers.get('cache-control')).toMatch(/^public/)
    expect(Buffer.from(await whole.arrayBuffer()).equals(archive)).toBe(true)

    const head = await get({ Range: 'bytes=0-126' })
    expect(head.status).toBe(206)
    expect(head.headers.get('content-range')).toBe(`bytes 0-126/${archive.length}`)
    expect(Buffer.from(await head.arrayBuffer()).equals(archive.subarray(0, 127))).toBe(true)

    const tail = await get({ Range: 'bytes=-10', 'If-Range': etag })
    expect(tail.status).toBe(206)
    expect(Buffer.from(await tail.arrayBuffer()).equals(archive.subarray(archive.length - 10))).toBe(true)

    const changed = await get({ Range: 'bytes=0-9', 'If-Range': `"${'0'.repeat(64)}"` })
    expect(changed.status).toBe(200)
    expect(Buffer.from(await changed.arrayBuffer()).length).toBe(archive.length)

    const outside = await get({ Range: `bytes=${archive.length}-` })
    expect(outside.status).toBe(416)
    expect(outside.headers.get('content-range')).toBe(`bytes */${archive.length}`)
    expect(outside.headers.get('content-type')).toContain('application/problem+json')

    const cached = await get({ 'If-None-Match': etag })
    expect(cached.status).toBe(304)
  })

  it('is read by the pmtiles client over HTTP ranges', async () => {
    const source = {
      getKey: () => url,
      getBytes: async (offset: number, length: number) => {
        const res = await get({ Range: `bytes=${offset}-${offset + length - 1}` })
        expect(res.status).toBe(206)
        return { data: await res.arrayBuffer(), etag: res.headers.get('etag') ?? undefined }
      },
    }
    const p = new PMTiles(source)
    const tile = await p.getZxy(1, 1, 0)
    expect(Buffer.from(tile!.data).toString()).toBe('b')
  })

  it('needs an app key', async () => {
    const res = await t.app.request(url)
    expect(res.status).toBe(401)
  })
})

describeWithOsmData('tiles job on the Sergiev Posad extract', () => {
  describeWithTilemaker('with tilemaker', () => {
    it('builds a PMTiles basemap the pmtiles reader opens, tiles decode, names are Russian', async () => {
      await ingestPbf('2026-03-01')
      const run = await tilesRun('sergiev-posad', '2026-03-01')
      const done = await execute(run.id)
      expect(done.error_message).toBeNull()
      expect(done.status).toBe('SUCCEEDED')
      const stats = (done.stats as { basemap: Record<string, any> }).basemap
      const row = (
        await sql<{ sha256: string; bytes: string; tile_count: number; bounds: number[] }>`
          SELECT b.* FROM city_basemap b JOIN cities c ON c.id = b.city_id
          WHERE c.slug = 'sergiev-posad'`.execute(t.database.db)
      ).rows[0]!
      expect(row.sha256).toBe(stats.sha256)
      const file = await readFile(join(t.deps.config.blobDir, row.sha256.slice(0, 2), row.sha256))
      expect(file.length).toBe(Number(row.bytes))
      // The city's offline pack gets a version carrying the basemap as a file.
      const packed = await t.database.db
        .selectFrom('city_pack_file')
        .select(['sha256', 'media_type'])
        .where('role', '=', 'basemap')
        .execute()
      expect(packed).toContainEqual({ sha256: row.sha256, media_type: 'application/vnd.pmtiles' })
      expect((done.stats as { pack?: { reused: boolean } }).pack?.reused).toBe(false)

      const p = new PMTiles(bufferSource(file))
      const h = await p.getHeader()
      expect(h.tileType).toBe(1)
      expect(h.numAddressedTiles).toBe(row.tile_count)
      const meta = (await p.getMetadata()) as { attribution: string; vector_layers: Array<{ id: string }> }
      expect(meta.attribution).toContain('OpenStreetMap')
      const layerIds = meta.vector_layers.map((l) => l.id)
      for (const id of ['water', 'landuse', 'transportation', 'building', 'place'])
        expect(layerIds).toContain(id)

      // Every tile inside the city's bounds, read back through the directory and decoded.
      let found = 0
      const names: string[] = []
      const layersSeen = new Set<string>()
      const bounds = row.bounds.map(Number) as [number, number, number, number]
      for (let z = h.minZoom; z <= h.maxZoom; z++) {
        const r = tileRange(bounds, z)
        for (let x = r.minX; x <= r.maxX; x++)
          for (let y = r.minY; y <= r.maxY; y++) {
            const tile = await p.getZxy(z, x, y)
            if (!tile) continue
            found += 1
            // The reader gunzips tiles itself (the header says gzip).
            const vt = new VectorTile(new PbfReader(new Uint8Array(tile.data)))
            for (const [id, layer] of Object.entries(vt.layers)) {
              layersSeen.add(id)
              for (let i = 0; i < layer.length; i++) {
                const name = layer.feature(i).properties.name
                if (typeof name === 'string') names.push(name)
              }
            }
          }
      }
      expect(found).toBe(row.tile_count)
      expect(layersSeen.has('building')).toBe(true)
      expect(names.length).toBeGreaterThan(0)
      // Labels are Russian: name:ru when present, else OSM's name, which is Russian here.
      const cyrillic = names.filter((n) => /[А-Яа-яЁё]/.test(n))
      expect(cyrillic.length / names.length).toBeGreaterThan(0.9)
      expect(names.some((n) => /Лавр/.test(n))).toBe(true)
    }, 120_000)

    it('style.json draws the basemap below the POI layers once it exists', async () => {
      const { run } = await enqueueRun(deps(), {
        type: 'publish',
        city: 'sergiev-posad',
        date: '2026-03-01',
        source: { kind: 'staging' } as never,
        trigger: 'chain',
      })
      expect((await execute(run.id)).status).toBe('SUCCEEDED')
      const res = await t.app.request('/v1/cities/sergiev-posad/style.json', {
        headers: { 'X-App-Key': DEV_KEYS.gorod },
      })
      expect(res.status).toBe(200)
      const style = (await res.json()) as any
      expect(style.sources.basemap.url).toMatch(
        /^pmtiles:\/\/.+\/v1\/cities\/sergiev-posad\/basemap\.pmtiles$/,
      )
      expect(style.sources.basemap.attribution).toContain('OpenStreetMap')
      const ids: string[] = style.layers.map((l: { id: string }) => l.id)
      expect(ids.indexOf('basemap-water')).toBeLessThan(ids.indexOf('pois'))
      expect(ids.indexOf('basemap-place')).toBeLessThan(ids.indexOf('helpers'))
    })
  })
})
