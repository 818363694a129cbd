import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { purgeAccountHandler } from '../../src/modules/accounts/index.js'
import { executeRun } from '../../src/platform/jobs/worker.js'
import { json, jsonRequest } from '../helpers/http.js'
import { ADMIN_TOKEN, createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'

let t: TestApp
const gorod = { 'X-App-Key': DEV_KEYS.gorod }
const progulki = { 'X-App-Key': DEV_KEYS.progulki }

async function newAccount(headers: Record<string, string> = gorod) {
  const res = await t.app.request('/v1/accounts', { method: 'POST', headers })
  expect(res.status).toBe(201)
  return json(res)
}
const bearer = (token: string, app: Record<string, string> = gorod) => ({
  ...app,
  Authorization: `Bearer ${token}`,
})

async function runPurge(jobId: string) {
  return executeRun(jobId, {
    db: t.database.db,
    log: t.deps.log,
    handlers: { account_purge: purgeAccountHandler },
    leaseSeconds: 60,
  })
}

/** Every row anywhere that still names the account or its code, table by table. */
async function traces(accountId: string, code: string) {
  const tables = await sql<{ table_name: string; column_name: string }>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND data_type IN ('uuid', 'text', 'jsonb')`.execute(t.database.db)
  const found: string[] = []
  for (const { table_name, column_name } of tables.rows) {
    if (table_name === 'account' && column_name === 'id') continue
    const hit = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.table(table_name)}
      WHERE ${sql.ref(column_name)}::text LIKE ${`%${accountId}%`} OR ${sql.ref(column_name)}::text LIKE ${`%${code}%`}`.execute(
      t.database.db,
    )
    if (hit.rows[0]!.n > 0) found.push(`${table_name}.${column_name}`)
  }
  return found
}

beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

describe('accounts and tokens', () => {
  it('creates an anonymous account with a readable code and a token pair; /v1/me shows it', async () => {
    const a = await newAccount()
    expect(a.account_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/)
    expect(a).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    const me = await t.app.request('/v1/me', { headers: bearer(a.access_token) })
    expect(me.status).toBe(200)
    expect(await json(me)).toMatchObject({
      account_id: a.account_id,
      account_code: a.account_code,
      tenant: 'gorod',
    })
    const empty = await t.app.request('/v1/accounts', jsonRequest({}, gorod))
    expect(empty.status).toBe(201)
    const extra = await t.app.request('/v1/accounts', jsonRequest({ email: 'x@y.z' }, gorod))
    expect(extra.status).toBe(400)
  })

  it('publishes the verifying keys at /.well-known/jwks.json', async () => {
    const a = await newAccount()
    const kid = JSON.parse(Buffer.from(a.access_token.split('.')[0], 'base64url').toString()).kid
    const body = await json(await t.app.request('/.well-known/jwks.json'))
    expect(body.keys.map((k: { kid: string }) => k.kid)).toContain(kid)
    expect(JSON.stringify(body)).not.toContain('"d"')
  })

  it('rotates refresh tokens; a reused one revokes the whole family (401)', async () => {
    const a = await newAccount()
    const r1 = await t.app.request('/v1/auth/refresh', jsonRequest({ refresh_token: a.refresh_token }, gorod))
    expect(r1.status).toBe(200)
    const p1 = await json(r1)
    expect(p1.refresh_token).not.toBe(a.refresh_token)
    const reuse = await t.app.request(
      '/v1/auth/refresh',
      jsonRequest({ refresh_token: a.refresh_token }, gorod),
    )
    expect(reuse.status).toBe(401)
    expect((await json(reuse)).code).toBe('REFRESH_TOKEN_INVALID')
    // The thief's reuse also kills the legitimate newer token of the same family.
    const after = await t.app.request(
      '/v1/auth/refresh',
      jsonRequest({ refresh_token: p1.refresh_token }, gorod),
    )
    expect(after.status).toBe(401)
    const stored = await t.database.db.selectFrom('refresh_token').select('token_hash').execute()
    for (const s of stored) expect(s.token_hash.toString('base64url')).not.toBe(a.refresh_token)
  })

  it('two concurrent uses of one refresh token: at most one wins and the family is revoked', async () => {
    const a = await newAccount()
    const both = await Promise.all(
      [1, 2].map(() =>
        t.app.request('/v1/auth/refresh', jsonRequest({ refresh_token: a.refresh_token }, gorod)),
      ),
    )
    const statuses = both.map((r) => r.status).sort()
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1)
    if (statuses[0] === 200) {
      // The winner's new token belongs to the family the loser's reuse revoked.
      const winner = await json(both.find((r) => r.status === 200)!)
      const next = await t.app.request(
        '/v1/auth/refresh',
        jsonRequest({ refresh_token: winner.refresh_token }, gorod),
      )
      expect(next.status).toBe(401)
    }
  })

  it('a refresh token of another app is not found (401)', async () => {
    const a = await newAccount()
    const res = await t.app.request(
      '/v1/auth/refresh',
      jsonRequest({ refresh_token: a.refresh_token }, progulki),
    )
    expect(res.status).toBe(401)
  })

  it('missing, malformed, tampered and other-tenant tokens: 401 / 403 with Russian detail', async () => {
    const a = await newAccount()
    const missing = await t.app.request('/v1/me', { headers: gorod })
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await json(missing)).detail).toMatch(/токен/i)
    const bad = await t.app.request('/v1/me', { headers: { ...gorod, Authorization: 'Basic abc' } })
    expect(bad.status).toBe(401)
    const [h, p, s] = a.access_token.split('.')
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`
    expect((await t.app.request('/v1/me', { headers: bearer(flipped) })).status).toBe(401)
    const other = await t.app.request('/v1/me', { headers: bearer(a.access_token, progulki) })
    expect(other.status).toBe(403)
    expect((await json(other)).code).toBe('ACCOUNT_TENANT_MISMATCH')
  })
})

describe('deletion in the app', () => {
  it('tombstones at once, purges by a job, keeps the ledger row unlinked, leaves others untouched', async () => {
    const a = await newAccount()
    const b = await newAccount()
    await t.database.db
      .insertInto('store_transactions')
      .values({
        tenant_id: 1,
        store: 'apple',
        environment: 'sandbox',
        store_transaction_id: '2000000000000001',
        original_transaction_id: 'orig-1',
        product_id: 'tour.moscow',
        account_id: a.account_id,
        raw: JSON.stringify({}),
      })
      .execute()
    const exported = await json(await t.app.request('/v1/me/export', { headers: bearer(a.access_token) }))
    expect(exported.account.account_id).toBe(a.account_id)
    expect(exported.refresh_tokens).toHaveLength(1)
    expect(exported.purchases).toHaveLength(1)

    const del = await t.app.request('/v1/me', { method: 'DELETE', headers: bearer(a.access_token) })
    expect(del.status).toBe(202)
    const { job_id } = await json(del)
    // The access token is refused at once, long before it expires; so is the refresh token.
    const me = await t.app.request('/v1/me', { headers: bearer(a.access_token) })
    expect(me.status).toBe(401)
    expect((await json(me)).code).toBe('ACCOUNT_INACTIVE')
    expect(
      (await t.app.request('/v1/auth/refresh', jsonRequest({ refresh_token: a.refresh_token }, gorod)))
        .status,
    ).toBe(401)
    // Deleting twice is not an error: the same job answers.
    const again = await t.app.request('/v1/me', { method: 'DELETE', headers: bearer(a.access_token) })
    expect(again.status).toBe(202)
    expect((await json(again)).job_id).toBe(job_id)

    expect(await runPurge(job_id)).toMatchObject({
      outcome: 'succeeded',
      stats: { accounts: 1, refresh_tokens_deleted: 1, ledger_links_cut: 1, entitlements_deleted: 0 },
    })
    expect(await traces(a.account_id, a.account_code)).toEqual([])
    const ledger = await t.database.db
      .selectFrom('store_transactions')
      .select(['account_id', 'product_id'])
      .where('original_transaction_id', '=', 'orig-1')
      .execute()
    expect(ledger).toEqual([{ account_id: null, product_id: 'tour.moscow' }])
    const audit = await t.database.db.selectFrom('audit_event').select(['kind', 'details']).execute()
    expect(audit.map((e) => e.kind)).toEqual(expect.arrayContaining(['account_deleted', 'account_purged']))
    expect(JSON.stringify(audit)).not.toContain(a.account_id)

    expect((await t.app.request('/v1/me', { headers: bearer(b.access_token) })).status).toBe(200)
    const bTokens = await t.database.db
      .selectFrom('refresh_token')
      .select('revoked_at')
      .where('account_id', '=', b.account_id)
      .execute()
    expect(bTokens).toEqual([{ revoked_at: null }])

    // A second delivery of the purge finds nothing left; the job is visible to operators.
    expect(await runPurge(job_id)).toEqual({ outcome: 'not_claimed' })
    const job = await t.app.request(`/v1/jobs/${job_id}`, { headers: { 'X-Admin-Token': ADMIN_TOKEN } })
    expect(job.status).toBe(200)
    expect(await json(job)).toMatchObject({ type: 'account_purge', status: 'SUCCEEDED', city: null })
    const again2 = await t.app.request('/v1/me', { method: 'DELETE', headers: bearer(a.access_token) })
    expect(again2.status).toBe(202)
  })
})

describe('web deletion page', () => {
  async function openForm(slug = 'gorod') {
    const res = await t.app.request(`/account-deletion?tenant=${slug}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    const page = await res.text()
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!
    return { page, csrf, cookie }
  }
  const submit = (fields: Record<string, string>, cookie: string, headers: Record<string, string> = {}) =>
    t.app.request('http://localhost/account-deletion', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
      body: new URLSearchParams(fields).toString(),
    })

  it('shows a Russian page with the brand name and a form usable without JavaScript', async () => {
    const { page } = await openForm()
    const brand = await t.database.db
      .selectFrom('tenants')
      .select('name')
      .where('slug', '=', 'gorod')
      .executeTakeFirstOrThrow()
    expect(page).toContain(brand.name)
    expect(page).toContain('Удаление аккаунта')
    expect(page).toContain('<form method="post"')
    expect(page).not.toContain('<script')
    expect((await t.app.request('/account-deletion?tenant=nope')).status).toBe(404)
  })

  it('deletes by code; a wrong or unknown code gets the same neutral answer', async () => {
    const a = await newAccount()
    const { csrf, cookie } = await openForm()
    const wrong = await submit({ tenant: 'gorod', code: 'ZZZZ-ZZZZ-ZZZZ', confirm: 'yes', csrf }, cookie)
    const garbage = await submit({ tenant: 'gorod', code: 'hello', confirm: 'yes', csrf }, cookie)
    const right = await submit(
      { tenant: 'gorod', code: a.account_code.toLowerCase().replace(/(.{4})/g, '$1-'), confirm: 'yes', csrf },
      cookie,
    )
    expect([wrong.status, garbage.status, right.status]).toEqual([200, 200, 200])
    const [tw, tg, tr] = await Promise.all([wrong.text(), garbage.text(), right.text()])
    expect(tw).toBe(tr)
    expect(tg).toBe(tr)
    expect((await t.app.request('/v1/me', { headers: bearer(a.access_token) })).status).toBe(401)
    const row = await t.database.db
      .selectFrom('account')
      .select(['deleted_at', 'purge_run_id'])
      .where('id', '=', a.account_id)
      .executeTakeFirstOrThrow()
    expect(row.deleted_at).not.toBeNull()
    expect(await runPurge(row.purge_run_id!)).toMatchObject({ outcome: 'succeeded' })
    expect(await traces(a.account_id, a.account_code)).toEqual([])
  })

  it('refuses a post without the form token or from another origin (403), and without confirmation (400)', async () => {
    const a = await newAccount()
    const { csrf, cookie } = await openForm()
    const fields = { tenant: 'gorod', code: a.account_code, confirm: 'yes', csrf }
    expect((await submit(fields, '')).status).toBe(403)
    expect((await submit({ ...fields, csrf: 'x'.repeat(32) }, cookie)).status).toBe(403)
    expect((await submit(fields, cookie, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await submit({ ...fields, confirm: '' }, cookie)).status).toBe(400)
    expect((await t.app.request('/v1/me', { headers: bearer(a.access_token) })).status).toBe(200)
  })

  it('rate-limits attempts per code and per client address', async () => {
    const limited = await createTestApp({ ACCOUNT_DELETION_RATE_LIMIT: '3' }, {}, t.database)
    const { csrf, cookie } = await openForm()
    const post = (code: string, ip: string) =>
      limited.app.request('http://localhost/account-deletion', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-forwarded-for': ip },
        body: new URLSearchParams({ tenant: 'gorod', code, confirm: 'yes', csrf }).toString(),
      })
    const codes = ['AAAA1111BBBB', 'AAAA2222BBBB', 'AAAA3333BBBB']
    for (const code of codes) expect((await post(code, '203.0.113.7')).status).toBe(200)
    const byIp = await post('AAAA4444BBBB', '203.0.113.7')
    expect(byIp.status).toBe(429)
    expect(Number(byIp.headers.get('retry-after'))).toBeGreaterThan(0)
    for (const ip of ['198.51.100.1', '198.51.100.2'])
      expect((await post('CCCC5555DDDD', ip)).status).toBe(200)
    expect((await post('CCCC5555DDDD', '198.51.100.3')).status).toBe(200)
    expect((await post('CCCC5555DDDD', '198.51.100.4')).status).toBe(429)
  })
})
