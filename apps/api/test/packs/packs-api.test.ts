import { createHash, createPublicKey, verify } from 'node:crypto'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { VectorTile } from '@mapbox/vector-tile'
import canonicalize from 'canonicalize'
import { PbfReader } from 'pbf'
import { PMTiles } from 'pmtiles'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { grantEntitlement, importContent, localMediaStore } from '../../src/modules/catalog/index.js'
import { buildCityTiles } from '../../src/modules/maps/index.js'
import { buildCityPack } from '../../src/modules/packs/index.js'
import { localBlobStore } from '../../src/platform/blobs/blob-store.js'
import { json } from '../helpers/http.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { ingest, LAVRA_XML, publish } from '../publishing/publish-fixtures.js'

const CONTENT = resolve(import.meta.dirname, '../../../../content')
const gorod = { 'X-App-Key': DEV_KEYS.gorod }

interface Manifest {
  version: number
  files: Array<{ role: string; sha256: string; bytes: number; url: string }>
  tours: Array<{ id: number; access: string; files: boolean }>
  key_id: string
  signature: string
  [k: string]: unknown
}

describeWithOsmData('offline city packs', () => {
  let t: TestApp
  let tmp: string
  const req = (path: string, headers: Record<string, string> = gorod) => t.app.request(path, { headers })
  // As the publish run does: the tile archive first, then the pack.
  const build = async () => {
    const db = t.deps.database.db
    const city = await db
      .selectFrom('cities')
      .selectAll()
      .where('slug', '=', 'sergiev-posad')
      .executeTakeFirstOrThrow()
    await buildCityTiles(db, {
      id: city.id,
      bbox: [city.bbox_min_lon, city.bbox_min_lat, city.bbox_max_lon, city.bbox_max_lat],
    })
    return buildCityPack(db, localBlobStore(join(tmp, 'blobs')), city, { keep: 2 })
  }
  const manifest = async (headers: Record<string, string> = gorod): Promise<Manifest> => {
    const res = await req('/v1/cities/sergiev-posad/pack.json?platform=android', headers)
    expect(res.status).toBe(200)
    return json(res)
  }
  const bytes = async (url: string, headers: Record<string, string> = gorod) =>
    Buffer.from(await (await req(url, headers)).arrayBuffer())

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'gorod-packs-'))
    t = await createTestApp({ MEDIA_DIR: join(tmp, 'media'), BLOB_DIR: join(tmp, 'blobs') })
    const db = t.deps.database.db
    await ingest(db, LAVRA_XML, 'sergiev-posad')
    await publish(db, 'sergiev-posad')
    const limits = { maxImageBytes: 10_000_000, maxAudioBytes: 10_000_000 }
    // The shipped Sergiev Posad content alone (Moscow is not ingested here).
    await cp(join(CONTENT, 'sergiev-posad'), join(tmp, 'content', 'sergiev-posad'), { recursive: true })
    const report = await importContent(db, localMediaStore(join(tmp, 'media')), limits, join(tmp, 'content'))
    expect(report).toMatchObject({ failed: 0 })
    expect(report.created).toBeGreaterThan(0)
  }, 180_000)
  afterAll(async () => {
    await t?.close()
    await rm(tmp, { recursive: true, force: true })
  })

  it('answers 404 before a pack is built, then a signed manifest the published keys verify', async () => {
    expect((await req('/v1/cities/sergiev-posad/pack.json')).status).toBe(404)
    const first = await build()
    expect(first).toMatchObject({ version: 1, reused: false })
    expect(await build()).toMatchObject({ version: 1, reused: true })
    const m = await manifest()
    expect(m).toMatchObject({
      city: 'sergiev-posad',
      tenant: 'gorod',
      version: 1,
      attribution: '© OpenStreetMap contributors',
    })
    expect(m.files.map((f) => f.role)).toEqual(expect.arrayContaining(['pois', 'helpers', 'catalog']))
    const keys = (await json(await req('/v1/packs/keys', {}))).keys as Array<{ kid: string; x: string }>
    const key = keys.find((k) => k.kid === m.key_id)!
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x }, format: 'jwk' })
    const { signature, ...unsigned } = m
    const check = (doc: unknown) =>
      verify(null, Buffer.from(canonicalize(doc)!), publicKey, Buffer.from(signature, 'base64url'))
    expect(check(unsigned)).toBe(true)
    expect(check({ ...unsigned, version: 2 })).toBe(false)
    expect(check({ ...unsigned, files: unsigned.files.slice(1) })).toBe(false)
  })

  it('carries the POI/helper tiles as one PMTiles file with every published POI at max zoom', async () => {
    const m = await manifest()
    const file = m.files.find((f) => f.role === 'poi_tiles')!
    expect(file).toMatchObject({ media_type: 'application/vnd.pmtiles' })
    const archive = await bytes(file.url)
    expect(archive.length).toBe(file.bytes)
    expect(createHash('sha256').update(archive).digest('hex')).toBe(file.sha256)
    const reader = new PMTiles({
      getKey: () => file.sha256,
      getBytes: async (offset: number, length: number) => ({
        data: archive.buffer.slice(
          archive.byteOffset + offset,
          archive.byteOffset + offset + length,
        ) as ArrayBuffer,
      }),
    })
    const header = await reader.getHeader()
    expect(header.maxZoom).toBe(14)
    expect(
      ((await reader.getMetadata()) as { vector_layers: Array<{ id: string }> }).vector_layers.map(
        (l) => l.id,
      ),
    ).toEqual(['pois', 'helpers'])
    // Every tile of max zoom the archive addresses, decoded; each POI once, where its point lies.
    const db = t.deps.database.db
    const published = await db
      .selectFrom('poi')
      .innerJoin('cities', 'cities.id', 'poi.city_id')
      .select('poi.id')
      .where('cities.slug', '=', 'sergiev-posad')
      .where('poi.published', '=', true)
      .execute()
    const [w, s, e, n] = [header.minLon, header.minLat, header.maxLon, header.maxLat]
    const tx = (lon: number) => Math.floor(((lon + 180) / 360) * 2 ** 14)
    const ty = (lat: number) => {
      const r = (lat * Math.PI) / 180
      return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** 14)
    }
    const found: number[] = []
    for (let x = tx(w); x <= tx(e); x++)
      for (let y = ty(n); y <= ty(s); y++) {
        const tile = await reader.getZxy(14, x, y)
        if (!tile) continue
        const layer = new VectorTile(new PbfReader(new Uint8Array(tile.data))).layers.pois
        if (!layer) continue
        for (let i = 0; i < layer.length; i++) {
          const f = layer.feature(i)
          const pt = f.loadGeometry()[0]![0]!
          if (pt.x < 0 || pt.y < 0 || pt.x >= layer.extent || pt.y >= layer.extent) continue
          expect(f.properties.cluster).toBeUndefined()
          found.push(Number(f.properties.id))
        }
      }
    expect(found.sort((a, b) => a - b)).toEqual(published.map((p) => Number(p.id)).sort((a, b) => a - b))
  })

  it('lists a locked tour without files and never serves its blobs to non-owners; an owner gets them', async () => {
    const m = await manifest()
    expect(m.tours.map((x) => x.access).sort()).toEqual(['free', 'locked'])
    const locked = m.tours.find((x) => x.access === 'locked')!
    const free = m.tours.find((x) => x.access === 'free')!
    expect(locked.files).toBe(false)
    expect(m.files.some((f) => f.role === `tour:${locked.id}`)).toBe(false)
    expect(m.files.some((f) => f.role === `tour:${free.id}`)).toBe(true)

    // An account that owns the paid item gets its tour file; the same blob stays 403 for others.
    const created = await json(await t.app.request('/v1/accounts', { method: 'POST', headers: gorod }))
    const owner = { ...gorod, Authorization: `Bearer ${created.access_token}` }
    const db = t.deps.database.db
    const tenant = await db
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', 'gorod')
      .executeTakeFirstOrThrow()
    const item = await db
      .selectFrom('catalog_item_tour')
      .select('item_id')
      .where('tour_id', '=', locked.id)
      .executeTakeFirstOrThrow()
    await grantEntitlement(db, tenant.id, created.account_id, Number(item.item_id), 'grant')
    const owned = await manifest(owner)
    expect(owned.tours.find((x) => x.id === locked.id)).toMatchObject({ access: 'owned', files: true })
    const tourFile = owned.files.find((f) => f.role === `tour:${locked.id}`)!
    const tour = JSON.parse((await bytes(tourFile.url, owner)).toString('utf8'))
    expect(tour.stops.every((s: { narration_ru?: string }) => s.narration_ru)).toBe(true)
    const anonymous = await req(tourFile.url)
    expect(anonymous.status).toBe(403)
    expect((await json(anonymous)).code).toBe('BLOB_LOCKED')
    // No answer to a non-owner carries the paid tour's narration.
    const secret = tour.stops[1].narration_ru as string
    expect(JSON.stringify(m)).not.toContain(secret)
    for (const f of m.files) expect((await bytes(f.url)).toString('utf8')).not.toContain(secret)
    // The other app never sees this app's catalog file.
    const catalog = m.files.find((f) => f.role === 'catalog')!
    expect((await req(catalog.url, { 'X-App-Key': DEV_KEYS.progulki })).status).toBe(404)
  })

  it('a resumed download with Range and If-Range gives the same bytes and hash', async () => {
    const m = await manifest()
    const pois = m.files.find((f) => f.role === 'pois')!
    const whole = await bytes(pois.url)
    expect(createHash('sha256').update(whole).digest('hex')).toBe(pois.sha256)
    const cut = Math.floor(whole.length / 3)
    const head = await req(pois.url, { ...gorod, Range: `bytes=0-${cut - 1}` })
    expect(head.status).toBe(206)
    const etag = head.headers.get('etag')!
    expect(etag).toBe(`"${pois.sha256}"`)
    const tail = await req(pois.url, { ...gorod, Range: `bytes=${cut}-`, 'If-Range': etag })
    expect(tail.status).toBe(206)
    expect(tail.headers.get('content-range')).toBe(`bytes ${cut}-${whole.length - 1}/${whole.length}`)
    const joined = Buffer.concat([
      Buffer.from(await head.arrayBuffer()),
      Buffer.from(await tail.arrayBuffer()),
    ])
    expect(joined.equals(whole)).toBe(true)
    // If-Range naming another version: the whole file again, not a wrong splice.
    const stale = await req(pois.url, { ...gorod, Range: `bytes=${cut}-`, 'If-Range': '"0000"' })
    expect(stale.status).toBe(200)
    expect((await req(pois.url, { ...gorod, Range: `bytes=${whole.length + 10}-` })).status).toBe(416)
    expect((await req(pois.url, { ...gorod, 'If-None-Match': etag })).status).toBe(304)
    expect(head.headers.get('cache-control')).toContain('immutable')
  })

  it('a changeset applied to the previous version equals the next; versions beyond those kept are 410', async () => {
    const db = t.deps.database.db
    const v1 = await manifest()
    const poisV1 = JSON.parse((await bytes(v1.files.find((f) => f.role === 'pois')!.url)).toString('utf8'))
    const [gone, renamed] = poisV1.features as Array<{ id: number }>
    await db
      .updateTable('poi')
      .set({ published: false, unpublished_reason: 'test', unpublished_at: new Date() })
      .where('id', '=', gone!.id)
      .execute()
    await db
      .updateTable('poi')
      .set({ name_ru: 'Переименованный объект' })
      .where('id', '=', renamed!.id)
      .execute()
    expect(await build()).toMatchObject({ version: 2, reused: false })
    const v2 = await manifest()
    const poisV2 = JSON.parse((await bytes(v2.files.find((f) => f.role === 'pois')!.url)).toString('utf8'))

    const res = await req('/v1/cities/sergiev-posad/pack/changes?since=1')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/x-ndjson')
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines[0]).toEqual({ op: 'header', city: 'sergiev-posad', from: 1, to: 2 })
    const applied = new Map(poisV1.features.map((f: { id: number }) => [f.id, f]))
    for (const l of lines)
      if (l.kind === 'poi' && l.op === 'upsert') applied.set(l.id, l.record)
      else if (l.kind === 'poi' && l.op === 'delete') applied.delete(l.id)
    const byId = (a: unknown, b: unknown) => (a as { id: number }).id - (b as { id: number }).id
    expect([...applied.values()].sort(byId)).toEqual([...poisV2.features].sort(byId))
    expect(lines.at(-1)).toMatchObject({ op: 'files', version: 2 })
    expect(lines.at(-1).files.map((f: { role: string }) => f.role)).toContain('pois')

    // keep = 2: a third version drops the first, and its file blob with it.
    await db.updateTable('poi').set({ name_ru: 'Ещё раз' }).where('id', '=', renamed!.id).execute()
    expect(await build()).toMatchObject({ version: 3 })
    const old = await req('/v1/cities/sergiev-posad/pack/changes?since=1')
    expect(old.status).toBe(410)
    expect((await json(old)).code).toBe('PACK_VERSION_GONE')
    expect((await req(v1.files.find((f) => f.role === 'pois')!.url)).status).toBe(404)
    expect((await req(v1.files.find((f) => f.role === 'poi_tiles')!.url)).status).toBe(404)
    const v3 = await manifest()
    expect(v3.files.find((f) => f.role === 'poi_tiles')!.sha256).not.toBe(
      v1.files.find((f) => f.role === 'poi_tiles')!.sha256,
    )
    expect((await req('/v1/cities/sergiev-posad/pack/changes?since=9')).status).toBe(404)
  })

  it('onboarding lists the app cities with pack versions and sizes per role', async () => {
    const body = await json(await req('/v1/onboarding'))
    const sp = body.cities.find((c: { slug: string }) => c.slug === 'sergiev-posad')
    expect(sp.pack).toMatchObject({ version: 3, manifest_url: '/v1/cities/sergiev-posad/pack.json' })
    expect(sp.pack.bytes.pois).toBeGreaterThan(0)
    expect(sp.pack.bytes.poi_tiles).toBeGreaterThan(0)
    expect(sp.pack.total_bytes).toBeGreaterThanOrEqual(sp.pack.bytes.pois)
    const moscow = body.cities.find((c: { slug: string }) => c.slug === 'moscow')
    expect(moscow.pack).toBeNull()
  })
})
