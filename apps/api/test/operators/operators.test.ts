import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { mp3, png } from '../catalog/media-fixtures.js'
import { json, jsonRequest } from '../helpers/http.js'
import { describeWithOsmData } from '../helpers/osm-data.js'
import { ADMIN_TOKEN, createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { ingest, LAVRA_XML, publish } from '../publishing/publish-fixtures.js'

const ANNA = 'anna-token-0123456789abcdef'
const BORIS = 'boris-token-0123456789abcdef'
const OPERATORS = `anna:${ANNA},boris:${BORIS}`

describe('ADMIN_TOKENS configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ LOG_LEVEL: 'silent', ...env })
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      return (err as ConfigError).problems.join('\n')
    }
    return ''
  }

  it('accepts named operators and refuses short tokens, repeated names or tokens, never echoing a token', () => {
    expect(loadConfig({ LOG_LEVEL: 'silent', ADMIN_TOKENS: OPERATORS }).adminOperators).toEqual([
      { name: 'anna', token: ANNA },
      { name: 'boris', token: BORIS },
    ])
    expect(problems({ ADMIN_TOKENS: 'anna:short' })).toMatch(/ADMIN_TOKENS: .*at least 16/)
    expect(problems({ ADMIN_TOKENS: `anna:${ANNA},anna:${BORIS}` })).toMatch(
      /ADMIN_TOKENS: names an operator twice/,
    )
    const same = problems({ ADMIN_TOKENS: `anna:${ANNA},boris:${ANNA}` })
    expect(same).toMatch(/same token/)
    expect(same).not.toContain(ANNA)
    expect(loadConfig({ LOG_LEVEL: 'silent' }).adminFourEyes).toBe(true)
    expect(loadConfig({ LOG_LEVEL: 'silent', ADMIN_FOUR_EYES: 'false' }).adminFourEyes).toBe(false)
  })
})

describeWithOsmData('named operators: sign-in, recorded actions, four eyes on tours', () => {
  let t: TestApp
  let mediaDir: string
  const poi: Record<string, number> = {}
  let cover: string
  let audio: string

  const as = (token: string) => ({ 'X-Admin-Token': token })
  const req = (path: string, init: RequestInit = {}) => t.app.request(path, init)
  const put = (token: string, path: string, body: unknown) => req(path, jsonRequest(body, as(token), 'PUT'))
  const post = (token: string, path: string, body: unknown) => req(path, jsonRequest(body, as(token)))
  const draft = (narration: string) => ({
    title_ru: 'Лавра для двоих',
    summary_ru: 'Главные храмы монастыря',
    description_ru: 'Прогулка по Троице-Сергиевой лавре от Святых ворот.',
    cover,
    duration_min: 45,
    stops: [
      {
        poi_id: poi['relation/6637079'],
        narration_ru: 'Успенский собор — главный храм лавры.',
        trigger_radius_m: 60,
      },
      { poi_id: poi['way/36866037'], narration_ru: narration, trigger_radius_m: 40, audio },
    ],
  })

  beforeAll(async () => {
    mediaDir = await mkdtemp(join(tmpdir(), 'gorod-operators-'))
    t = await createTestApp({ MEDIA_DIR: mediaDir, ADMIN_TOKENS: OPERATORS })
    const db = t.deps.database.db
    await ingest(db, LAVRA_XML)
    await publish(db)
    for (const r of await db
      .selectFrom('poi')
      .select(['id', 'osm_type', 'osm_id'])
      .where('published', '=', true)
      .execute())
      poi[`${r.osm_type}/${r.osm_id}`] = Number(r.id)
    const upload = async (bytes: Buffer) =>
      (
        await json(
          await req(
            '/v1/admin/media?author=Проект+Город&license=CC-BY-4.0&source_url=https://example.org/m',
            {
              method: 'POST',
              headers: { ...as(ANNA), 'content-type': 'application/octet-stream' },
              body: bytes,
            },
          ),
        )
      ).sha256 as string
    cover = await upload(png(48, 32))
    audio = await upload(mp3(50))
  }, 120_000)
  afterAll(async () => {
    await t?.close()
    await rm(mediaDir, { recursive: true, force: true })
  })

  it('GET /v1/admin/me names the operator of each token; a wrong token is refused', async () => {
    expect(await json(await req('/v1/admin/me', { headers: as(ANNA) }))).toEqual({
      name: 'anna',
      named: true,
      four_eyes: true,
    })
    expect(await json(await req('/v1/admin/me', { headers: as(BORIS) }))).toMatchObject({ name: 'boris' })
    // The shared token keeps working next to the named ones.
    expect(await json(await req('/v1/admin/me', { headers: as(ADMIN_TOKEN) }))).toMatchObject({
      name: 'admin',
      named: false,
    })
    const wrong = await req('/v1/admin/me', { headers: as(`${ANNA}x`) })
    expect(wrong.status).toBe(403)
    expect((await json(wrong)).code).toBe('ADMIN_TOKEN_INVALID')
    expect((await req('/v1/admin/me')).status).toBe(401)
  })

  it('the draft editor cannot publish it; another operator can, and the public catalog shows it', async () => {
    const saved = await json(
      await put(ANNA, '/v1/admin/tours/sergiev-posad/for-two', draft('Колокольня лавры.')),
    )
    expect(saved.outcome).toBe('created')
    const own = await post(ANNA, `/v1/admin/tours/${saved.id}/publish`, {})
    expect(own.status).toBe(409)
    expect(await json(own)).toMatchObject({ code: 'FOUR_EYES_REQUIRED' })
    // A `by` in the body does not let a named operator act as someone else.
    expect((await post(ANNA, `/v1/admin/tours/${saved.id}/publish`, { by: 'boris' })).status).toBe(409)

    const published = await post(BORIS, `/v1/admin/tours/${saved.id}/publish`, {})
    expect(published.status).toBe(200)
    expect(await json(published)).toMatchObject({ outcome: 'published', status: 'published' })
    // In the public catalog once a free catalog item offers it to the app.
    const item = await json(
      await put(ANNA, '/v1/admin/catalog/for-two', {
        city: 'sergiev-posad',
        kind: 'tour',
        title_ru: 'Лавра для двоих',
        summary_ru: 'Тур по лавре',
        cover,
        paid: false,
        tours: ['for-two'],
        offers: { gorod: {} },
      }),
    )
    expect((await post(BORIS, `/v1/admin/catalog/${item.id}/publish`, {})).status).toBe(200)
    const catalog = await json(
      await req('/v1/cities/sergiev-posad/catalog?platform=ios', {
        headers: { 'X-App-Key': DEV_KEYS.gorod },
      }),
    )
    expect(JSON.stringify(catalog)).toContain('Лавра для двоих')
    const pub = await req(`/v1/tours/${saved.id}`, { headers: { 'X-App-Key': DEV_KEYS.gorod } })
    expect(pub.status).toBe(200)
    expect(await json(pub)).toMatchObject({ title_ru: 'Лавра для двоих' })

    // Boris edits the draft now: he may not publish his own edit, Anna may.
    await put(BORIS, '/v1/admin/tours/sergiev-posad/for-two', draft('Колокольня лавры, 88 метров.'))
    expect((await post(BORIS, `/v1/admin/tours/${saved.id}/publish`, {})).status).toBe(409)
    expect((await post(ANNA, `/v1/admin/tours/${saved.id}/publish`, {})).status).toBe(200)
  })

  it('records every change with the operator who made it, never the token', async () => {
    const staged = await t.deps.database.db
      .selectFrom('poi_ingestion_staging')
      .select('id')
      .orderBy('id')
      .limit(1)
      .executeTakeFirstOrThrow()
    const rejected = await post(BORIS, `/v1/admin/staging/${staged.id}/reject`, {
      reason: 'Дубликат объекта',
    })
    expect(rejected.status).toBe(200)
    expect((await json(rejected)).review).toMatchObject({ state: 'rejected', by: 'boris' })
    // A refused request is not an action.
    expect((await post(ANNA, '/v1/admin/staging/999999999/reject', { reason: 'Нет такого' })).status).toBe(
      404,
    )

    const page = await json(await req('/v1/admin/actions?limit=200', { headers: as(ANNA) }))
    const seen = page.items.map((a: { operator: string; method: string; path: string; status: number }) => [
      a.operator,
      a.method,
      a.path,
      a.status,
    ])
    expect(seen).toContainEqual(['boris', 'POST', `/v1/admin/staging/${staged.id}/reject`, 200])
    expect(seen).toContainEqual(['anna', 'PUT', '/v1/admin/tours/sergiev-posad/for-two', 200])
    expect(seen).toContainEqual(['anna', 'POST', '/v1/admin/media', 200])
    expect(seen.filter(([, , path]: string[]) => path?.includes('999999999'))).toEqual([])
    // Only successful changes, newest first, the refused publishes absent.
    expect(
      seen.filter(
        ([op, , path, status]: [string, string, string, number]) =>
          op === 'anna' && path.endsWith('/publish') && status !== 200,
      ),
    ).toEqual([])
    expect(page.items[0].id).toBeGreaterThan(page.items[page.items.length - 1].id)
    const reject = page.items.find((a: { path: string }) => a.path.endsWith('/reject'))
    expect(reject.detail.request).toMatchObject({ reason: 'Дубликат объекта' })

    const borisOnly = await json(await req('/v1/admin/actions?operator=boris&limit=1', { headers: as(ANNA) }))
    expect(borisOnly.items).toHaveLength(1)
    expect(borisOnly.items[0].operator).toBe('boris')
    expect(borisOnly.next_cursor).toEqual(expect.any(String))
    const next = await json(
      await req(`/v1/admin/actions?operator=boris&limit=1&cursor=${borisOnly.next_cursor}`, {
        headers: as(ANNA),
      }),
    )
    expect(next.items[0].id).toBeLessThan(borisOnly.items[0].id)

    const everything = JSON.stringify(page) + t.logs.text
    for (const secret of [ANNA, BORIS, ADMIN_TOKEN]) expect(everything).not.toContain(secret)
  })

  it('the shared token acts under the body’s `by`; ADMIN_FOUR_EYES=false lets an editor publish alone', async () => {
    const relaxed = await createTestApp(
      { ADMIN_TOKENS: OPERATORS, ADMIN_FOUR_EYES: 'false', MEDIA_DIR: mediaDir },
      {},
      t.database,
    )
    try {
      const r = (path: string, init: RequestInit) => relaxed.app.request(path, init)
      const saved = await json(
        await r(
          '/v1/admin/tours/sergiev-posad/alone',
          jsonRequest({ ...draft('Колокольня.'), by: 'x' }, as(ANNA), 'PUT'),
        ),
      )
      expect((await r(`/v1/admin/tours/${saved.id}/publish`, jsonRequest({}, as(ANNA)))).status).toBe(200)
      expect(await json(await r('/v1/admin/me', { headers: as(ANNA) }))).toMatchObject({ four_eyes: false })
    } finally {
      await relaxed.close()
    }
    // With four eyes on, the shared token is two people only if they say so.
    const saved = await json(
      await put(ADMIN_TOKEN, '/v1/admin/tours/sergiev-posad/shared', { ...draft('Колокольня.'), by: 'vera' }),
    )
    expect((await post(ADMIN_TOKEN, `/v1/admin/tours/${saved.id}/publish`, { by: 'vera' })).status).toBe(409)
    expect((await post(ADMIN_TOKEN, `/v1/admin/tours/${saved.id}/publish`, { by: 'gleb' })).status).toBe(200)
    const actions = await json(await req('/v1/admin/actions?operator=gleb', { headers: as(ANNA) }))
    expect(actions.items[0]).toMatchObject({ path: `/v1/admin/tours/${saved.id}/publish`, status: 200 })
  })
})
