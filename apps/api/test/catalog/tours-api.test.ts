import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { grantEntitlement } from '../../src/modules/catalog/index.js'
import { issueAccessToken, keyRingOf, withTenant } from '../../src/platform/auth/index.js'
import { json, jsonRequest } from '../helpers/http.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { ADMIN_TOKEN, createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { ingest, LAVRA_XML, publish } from '../publishing/publish-fixtures.js'
import { mp3, png } from './media-fixtures.js'

const admin = { 'X-Admin-Token': ADMIN_TOKEN }
const gorod = { 'X-App-Key': DEV_KEYS.gorod }
const progulki = { 'X-App-Key': DEV_KEYS.progulki }
const SECRET_NARRATION = 'Секретный рассказ второй остановки о колокольне'

describeWithOsmData('tours and catalog through the API', () => {
  let t: TestApp
  let mediaDir: string
  const poi: Record<string, number> = {}
  let cover: string
  let audio: string
  let freeAudio: string
  let paidTour: number
  let freeTour: number

  const req = (path: string, init: RequestInit = {}) => t.app.request(path, init)
  const put = (path: string, body: unknown) => req(path, jsonRequest(body, admin, 'PUT'))
  const post = (path: string, body: unknown) => req(path, jsonRequest(body, admin))

  beforeAll(async () => {
    mediaDir = await mkdtemp(join(tmpdir(), 'gorod-media-'))
    t = await createTestApp({ MEDIA_DIR: mediaDir })
    const db = t.deps.database.db
    await ingest(db, LAVRA_XML)
    await publish(db)
    const rows = await db
      .selectFrom('poi')
      .select(['id', 'osm_type', 'osm_id'])
      .where('published', '=', true)
      .execute()
    for (const r of rows) poi[`${r.osm_type}/${r.osm_id}`] = Number(r.id)
  }, 120_000)
  afterAll(async () => {
    await t?.close()
    await rm(mediaDir, { recursive: true, force: true })
  })

  const upload = (
    bytes: Buffer,
    q = 'by=editor&author=Проект+Город&license=CC-BY-4.0&source_url=https://example.org/m',
  ) =>
    req(`/v1/admin/media?${q}`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/octet-stream' },
      body: bytes,
    })

  const draft = (title: string, narration2: string, stops = 2, stopAudio = audio) => ({
    by: 'editor@example.org',
    title_ru: title,
    summary_ru: 'Главные храмы монастыря',
    description_ru: 'Прогулка по Троице-Сергиевой лавре от Святых ворот.',
    cover,
    duration_min: 60,
    stops: [
      {
        poi_id: poi['relation/6637079'],
        narration_ru: 'Успенский собор — главный храм лавры.',
        trigger_radius_m: 60,
      },
      { poi_id: poi['way/36866037'], narration_ru: narration2, trigger_radius_m: 40, audio: stopAudio },
    ].slice(0, stops),
  })

  it('uploads media once per content (sniffed, deduplicated) and refuses a non-medium', async () => {
    const first = await upload(png(64, 32))
    expect(first.status).toBe(200)
    const m = await json(first)
    expect(m).toMatchObject({ kind: 'image', mime: 'image/png', width: 64, height: 32, created: true })
    cover = m.sha256
    expect(await json(await upload(png(64, 32)))).toMatchObject({ sha256: cover, created: false })
    const a = await json(await upload(mp3(60)))
    expect(a).toMatchObject({ kind: 'audio', mime: 'audio/mpeg' })
    audio = a.sha256
    freeAudio = (await json(await upload(mp3(70)))).sha256
    const bad = await upload(Buffer.from('MZ not really an image but named photo.jpg'.padEnd(300, 'x')))
    expect(bad.status).toBe(415)
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/)
  })

  it('publish answers 422 with every failed gate, stop and field', async () => {
    expect(poi['relation/6637079']).toBeDefined()
    expect(poi['way/36866037']).toBeDefined()
    const saved = await json(
      await put('/v1/admin/tours/sergiev-posad/short', { ...draft('Short tour', '', 1) }),
    )
    const res = await post(`/v1/admin/tours/${saved.id}/publish`, { by: 'editor' })
    expect(res.status).toBe(422)
    const body = await json(res)
    expect(body.code).toBe('PUBLISH_GATES_FAILED')
    expect(body.errors.map((e: { gate: string }) => e.gate).sort()).toEqual(['min_stops', 'ru_text'])
  })

  it('creates, publishes and versions a tour: the public version stays while a draft is edited', async () => {
    const created = await json(
      await put('/v1/admin/tours/sergiev-posad/lavra', draft('Лавра за час', SECRET_NARRATION)),
    )
    expect(created.outcome).toBe('created')
    paidTour = created.id
    expect(
      await json(await put('/v1/admin/tours/sergiev-posad/lavra', draft('Лавра за час', SECRET_NARRATION))),
    ).toMatchObject({ outcome: 'unchanged' })
    expect((await post(`/v1/admin/tours/${paidTour}/publish`, { by: 'editor' })).status).toBe(200)
    freeTour = (
      await json(
        await put(
          '/v1/admin/tours/sergiev-posad/lavra-free',
          draft('Бесплатная лавра', 'Открытый рассказ о колокольне.', 2, freeAudio),
        ),
      )
    ).id
    expect((await post(`/v1/admin/tours/${freeTour}/publish`, { by: 'editor' })).status).toBe(200)

    const item = (slug: string, tour: string, paid: boolean, offers: Record<string, unknown>) =>
      put(`/v1/admin/catalog/${slug}`, {
        by: 'editor',
        city: 'sergiev-posad',
        kind: 'tour',
        title_ru: 'Лавра',
        summary_ru: 'Тур по лавре',
        cover,
        paid,
        tours: [tour],
        offers,
      })
    const paidItem = await json(await item('lavra-paid', 'lavra', true, { gorod: { apple: 'gorod.lavra' } }))
    const gates = await post(`/v1/admin/catalog/${paidItem.id}/publish`, { by: 'editor' })
    expect(gates.status).toBe(422)
    expect((await json(gates)).errors).toEqual([
      expect.objectContaining({ gate: 'product_ids', path: 'offers.gorod.rustore' }),
    ])
    await item('lavra-paid', 'lavra', true, { gorod: { apple: 'gorod.lavra', rustore: 'gorod_lavra' } })
    expect((await post(`/v1/admin/catalog/${paidItem.id}/publish`, { by: 'editor' })).status).toBe(200)
    const freeItem = await json(await item('lavra-free', 'lavra-free', false, { gorod: {} }))
    expect((await post(`/v1/admin/catalog/${freeItem.id}/publish`, { by: 'editor' })).status).toBe(200)

    const before = await json(await req(`/v1/tours/${freeTour}`, { headers: gorod }))
    expect(before.access).toBe('free')
    await put(
      '/v1/admin/tours/sergiev-posad/lavra-free',
      draft('Бесплатная лавра, вторая редакция', 'Новый рассказ.', 2, freeAudio),
    )
    const during = await json(await req(`/v1/tours/${freeTour}`, { headers: gorod }))
    expect(during).toEqual(before)
    const list = await json(
      await req('/v1/admin/tours?city=sergiev-posad&status=published&limit=1', { headers: admin }),
    )
    expect(list.items).toHaveLength(1)
    expect(list.next_cursor).not.toBeNull()
    const page2 = await json(
      await req(`/v1/admin/tours?city=sergiev-posad&status=published&limit=5&cursor=${list.next_cursor}`, {
        headers: admin,
      }),
    )
    const edited = [...list.items, ...page2.items].find((x: { id: number }) => x.id === freeTour)
    expect(edited).toMatchObject({ draft: { number: 2 }, published: { number: 1 } })
    await post(`/v1/admin/tours/${freeTour}/publish`, { by: 'editor' })
    const after = await json(await req(`/v1/tours/${freeTour}`, { headers: gorod }))
    expect(after.title_ru).toBe('Бесплатная лавра, вторая редакция')
    expect(after.content_hash).not.toBe(before.content_hash)
    const audit = await t.deps.database.db
      .selectFrom('content_audit')
      .selectAll()
      .where('entity', '=', 'tour')
      .where('entity_id', '=', String(freeTour))
      .execute()
    expect(audit.map((a) => a.action)).toEqual(['create_draft', 'publish', 'update_draft', 'publish'])
  })

  it('locked narration and media never leak from any public answer', async () => {
    const answers: string[] = []
    for (const path of [
      `/v1/cities/sergiev-posad/catalog?platform=ios`,
      `/v1/cities/sergiev-posad/catalog?platform=android`,
      `/v1/tours/${paidTour}`,
      `/v1/tours/${paidTour}.geojson`,
    ]) {
      const res = await req(path, { headers: gorod })
      expect(res.status, path).toBe(200)
      answers.push(await res.text())
    }
    for (const a of answers) expect(a).not.toContain(SECRET_NARRATION)
    const tour = JSON.parse(answers[2]!)
    expect(tour.access).toBe('locked')
    expect(tour.description_ru).toBeUndefined()
    expect(tour.stops[0].narration_ru).toMatch(/Успенский собор/)
    expect(tour.stops[1]).toMatchObject({ locked: true, title_ru: expect.any(String) })
    expect(tour.stops[1].audio_url).toBeUndefined()
    expect(tour.route.coordinates).toHaveLength(2)
    const catalog = JSON.parse(answers[0]!)
    const paid = catalog.items.find((i: { slug: string }) => i.slug === 'lavra-paid')
    expect(paid).toMatchObject({ access: 'locked', product_id: 'gorod.lavra' })
    expect(
      JSON.parse(answers[1]!).items.find((i: { slug: string }) => i.slug === 'lavra-paid').product_id,
    ).toBe('gorod_lavra')
    expect(catalog.items.find((i: { slug: string }) => i.slug === 'lavra-free')).not.toHaveProperty(
      'product_id',
    )
    expect(JSON.stringify(catalog)).not.toMatch(/price|currency|balance/)

    const locked = await req(`/v1/media/${audio}`, { headers: gorod })
    expect(locked.status).toBe(403)
    expect((await json(locked)).code).toBe('MEDIA_LOCKED')
    const open = await req(`/v1/media/${cover}`, { headers: gorod })
    expect(open.status).toBe(200)
    expect(open.headers.get('etag')).toBe(`"${cover}"`)
    expect(open.headers.get('cache-control')).toMatch(/immutable/)
    expect(
      Buffer.from(await open.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG')
    const part = await req(`/v1/media/${cover}`, { headers: { ...gorod, range: 'bytes=0-3' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-3\/\d+$/)
    expect((await part.arrayBuffer()).byteLength).toBe(4)
    expect(
      (await req(`/v1/media/${cover}`, { headers: { ...gorod, 'if-none-match': `"${cover}"` } })).status,
    ).toBe(304)
    expect((await req(`/v1/media/${cover}`, { headers: { ...gorod, range: 'bytes=99999-' } })).status).toBe(
      416,
    )
  })

  it('an account that owns the item reads the whole tour and its media; others stay locked', async () => {
    const db = t.deps.database.db
    const tenant = await db
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', 'gorod')
      .executeTakeFirstOrThrow()
    const account = await withTenant(db, tenant.id, (trx) =>
      trx
        .insertInto('account')
        .values({ tenant_id: tenant.id, account_code: 'CATAAAAABBBB' })
        .returning('id')
        .executeTakeFirstOrThrow(),
    )
    const other = await withTenant(db, tenant.id, (trx) =>
      trx
        .insertInto('account')
        .values({ tenant_id: tenant.id, account_code: 'CATAAAAACCCC' })
        .returning('id')
        .executeTakeFirstOrThrow(),
    )
    const ring = await keyRingOf(t.deps)
    const token = (accountId: string) =>
      issueAccessToken(
        ring,
        { accountId, tenantSlug: 'gorod' },
        { audience: t.deps.config.auth.audience, ttlSeconds: 600 },
      )
    const owner = { ...gorod, authorization: `Bearer ${await token(account.id)}` }
    const stranger = { ...gorod, authorization: `Bearer ${await token(other.id)}` }
    const item = await db
      .selectFrom('catalog_item')
      .select('id')
      .where('slug', '=', 'lavra-paid')
      .executeTakeFirstOrThrow()
    expect(await grantEntitlement(db, tenant.id, account.id, Number(item.id), 'grant')).toEqual({
      created: true,
    })
    expect(await grantEntitlement(db, tenant.id, account.id, Number(item.id), 'grant')).toEqual({
      created: false,
    })

    const tour = await json(await req(`/v1/tours/${paidTour}`, { headers: owner }))
    expect(tour.access).toBe('owned')
    expect(tour.stops[1].narration_ru).toBe(SECRET_NARRATION)
    expect(tour.description_ru).toBeDefined()
    expect((await req(`/v1/media/${audio}`, { headers: owner })).status).toBe(200)
    const catalog = await json(await req('/v1/cities/sergiev-posad/catalog?platform=ios', { headers: owner }))
    expect(catalog.items.find((i: { slug: string }) => i.slug === 'lavra-paid').access).toBe('owned')

    const locked = await req(`/v1/tours/${paidTour}`, { headers: stranger })
    expect((await locked.text()).includes(SECRET_NARRATION)).toBe(false)
    expect((await req(`/v1/media/${audio}`, { headers: stranger })).status).toBe(403)
    expect(
      (await req(`/v1/tours/${paidTour}`, { headers: { ...gorod, authorization: 'Bearer nope' } })).status,
    ).toBe(401)
    // A token of one app does not open another app's answers.
    expect(
      (await req(`/v1/tours/${paidTour}`, { headers: { ...progulki, authorization: owner.authorization } }))
        .status,
    ).toBe(403)
  })

  it('isolates tenants: another app sees neither the items nor the tours it does not offer', async () => {
    const catalog = await req('/v1/cities/sergiev-posad/catalog?platform=ios', { headers: progulki })
    expect(catalog.status).toBe(200)
    expect((await json(catalog)).items).toEqual([])
    expect((await req(`/v1/tours/${paidTour}`, { headers: progulki })).status).toBe(404)
    expect((await req(`/v1/media/${cover}`, { headers: progulki })).status).toBe(404)
  })

  it('a POI unpublished later flags the tour for review; the public version stays', async () => {
    await t.deps.database.db
      .updateTable('poi')
      .set({
        published: false,
        unpublished_reason: 'review: отклонено редактором',
        unpublished_at: new Date(),
      })
      .where('id', '=', poi['way/36866037']!)
      .execute()
    const list = await json(await req('/v1/admin/tours?city=sergiev-posad', { headers: admin }))
    const flagged = list.items.find((x: { id: number }) => x.id === paidTour)
    expect(flagged.review.reason).toMatch(/снят с публикации: review: отклонено редактором/)
    expect(flagged.status).toBe('published')
    expect((await req(`/v1/tours/${paidTour}`, { headers: gorod })).status).toBe(200)
    const unpub = await post(`/v1/admin/tours/${paidTour}/unpublish`, { by: 'editor', reason: 'объект снят' })
    expect(unpub.status).toBe(200)
    expect((await req(`/v1/tours/${paidTour}`, { headers: gorod })).status).toBe(404)
  })
})
