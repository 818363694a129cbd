import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CALLBACK_PATH, createQStashQueue } from '../../src/platform/jobs/qstash-queue.js'
import type { JobHandler } from '../../src/platform/jobs/types.js'
import { json, jsonRequest } from '../helpers/http.js'
import { PUBLIC_BASE_URL, qstashEnv, SECRETS, SIGNING_KEYS, signQStash } from '../helpers/qstash-signer.js'
import { ADMIN_TOKEN, createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import { type LocalServer, startLocalServer } from '../ingestion/local-http-server.js'
import { type ContractOperation, contractOperations, fillPath } from './contract.js'

/**
 * Who may call what, derived from the contract: every AdminToken operation refuses a missing or wrong
 * token, every signed operation refuses anything but a valid signature for its own URL, every AppKey
 * operation stays inside the caller's tenant, and no credential reaches a log line.
 */

const SOME_ID = '00000000-0000-4000-8000-000000000000'
const OPS = contractOperations()
const adminOps = OPS.filter((o) => o.security.includes('AdminToken'))
const signedOps = OPS.filter((o) => o.security.includes('QStashSignature'))
const tenantOps = OPS.filter((o) => o.security.includes('AppKey'))

/** A request that would be valid apart from its credentials. */
function request(op: ContractOperation, headers: Record<string, string>, body?: string): Request {
  const path = fillPath(op, (name) => (name.endsWith('_id') ? SOME_ID : 'moscow'))
  const init: RequestInit = { method: op.method, headers: { ...headers } }
  if (op.hasBody) {
    init.body =
      body ?? JSON.stringify(op.path.endsWith('/enqueue') ? { city: 'moscow' } : { run_id: SOME_ID })
    ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
  }
  return new Request(`http://localhost${path}`, init)
}

let t: TestApp
let qstash: LocalServer
const handled: string[] = []
const handler: JobHandler = async (ctx) => {
  handled.push(ctx.run.id)
  return { status: 'succeeded', stats: {} }
}
const sentSignatures: string[] = []

beforeAll(async () => {
  qstash = await startLocalServer((_req, res, n) => {
    res.writeHead(201, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ messageId: `msg_${n}` }))
  })
  t = await createTestApp(qstashEnv(qstash.url), (config, log) => ({
    jobs: createQStashQueue(config.jobs.qstash!, { log, maxAttempts: config.jobs.maxAttempts }),
    jobHandlers: { osm: handler, helpers: handler },
  }))
})
afterAll(async () => {
  await t?.close()
  await qstash?.close()
})

describe('admin surface, from the contract', () => {
  it('the contract names the admin operations', () => {
    expect(adminOps.length).toBeGreaterThanOrEqual(6)
  })

  it.each(adminOps.map((o) => [`${o.method} ${o.path}`, o] as const))(
    '%s: missing token 401, wrong token 403, never reaching the handler',
    async (_name, op) => {
      const missing = await t.app.request(request(op, {}))
      expect(missing.status).toBe(401)
      expect(missing.headers.get('content-type')).toBe('application/problem+json')
      expect((await json(missing)).code).toBe('ADMIN_TOKEN_REQUIRED')
      for (const wrong of [`${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), ADMIN_TOKEN.toUpperCase(), 'x']) {
        const res = await t.app.request(request(op, { 'X-Admin-Token': wrong }))
        expect(res.status).toBe(403)
        expect((await json(res)).code).toBe('ADMIN_TOKEN_INVALID')
      }
      // Another credential kind is no admin token.
      const appKey = await t.app.request(request(op, { 'X-App-Key': DEV_KEYS.gorod }))
      expect(appKey.status).toBe(401)
      const right = await t.app.request(request(op, { 'X-Admin-Token': ADMIN_TOKEN }))
      expect(right.status).toBeLessThan(500)
      expect([401, 403]).not.toContain(right.status)
    },
  )
})

describe('signed operations (QStash callback, cron), from the contract', () => {
  it('the contract names the signed operations', () => {
    expect(signedOps.map((o) => o.path)).toEqual(
      expect.arrayContaining([CALLBACK_PATH, '/v1/cron/ingestion']),
    )
  })

  let runs = 0
  async function queuedRun(): Promise<string> {
    // Each call a key of its own: same city and date, another boundary.
    runs += 1
    const res = await t.app.request(
      '/v1/admin/ingestion/osm/enqueue',
      jsonRequest(
        { city: 'moscow', date: '2031-01-10', boundary_ref: String(7000 + runs) },
        { 'X-Admin-Token': ADMIN_TOKEN },
      ),
    )
    expect(res.status).toBe(202)
    return (await json(res)).job_id
  }

  it.each(signedOps.map((o) => [`${o.method} ${o.path}`, o] as const))(
    '%s: unsigned, garbage, tampered, expired, not yet valid, other key, other URL → 401, nothing runs',
    async (_name, op) => {
      const runId = await queuedRun()
      const body = op.hasBody ? JSON.stringify({ run_id: runId }) : ''
      const own = `${PUBLIC_BASE_URL}${op.path}`
      const other = `${PUBLIC_BASE_URL}${op.path === CALLBACK_PATH ? '/v1/cron/ingestion' : CALLBACK_PATH}`
      const sign = async (o: Partial<Parameters<typeof signQStash>[0]>) => {
        const s = await signQStash({ key: SIGNING_KEYS.current, url: own, body, ...o })
        sentSignatures.push(s)
        return s
      }
      const attempts: Array<[string, Record<string, string>, string?]> = [
        ['unsigned', {}],
        ['garbage', { 'Upstash-Signature': 'not.a.jwt' }],
        ['tampered body', { 'Upstash-Signature': await sign({ body: `${body} ` }) }, body],
        [
          'expired',
          { 'Upstash-Signature': await sign({ issuedAt: -900, notBefore: -900, expiresIn: -600 }) },
        ],
        [
          'not yet valid',
          { 'Upstash-Signature': await sign({ notBefore: 600, issuedAt: 600, expiresIn: 900 }) },
        ],
        ['another key', { 'Upstash-Signature': await sign({ key: 'sig_attacker-key-000000000000' }) }],
        ['replayed for another URL', { 'Upstash-Signature': await sign({ url: other }) }],
        ['another host', { 'Upstash-Signature': await sign({ url: `https://evil.example${op.path}` }) }],
        ['wrong bearer', { Authorization: 'Bearer not-the-cron-secret-0000000' }],
      ]
      for (const [what, headers] of attempts) {
        const res = await t.app.request(request(op, headers, op.hasBody ? `${body}` : undefined))
        expect(res.status, what).toBe(401)
        expect((await json(res)).code, what).toBe('SIGNATURE_INVALID')
      }
      // The tampered-body case: the signature covered `body `; the request carried `body`.
      expect(handled).not.toContain(runId)
      const row = await t.database.db
        .selectFrom('ingestion_run')
        .select(['status', 'attempts'])
        .where('id', '=', runId)
        .executeTakeFirstOrThrow()
      expect(row).toEqual({ status: 'QUEUED', attempts: 0 })
    },
  )

  it('a correctly signed callback does run the job (the refusals above are not a broken setup)', async () => {
    const runId = await queuedRun()
    const body = JSON.stringify({ run_id: runId })
    const signature = await signQStash({
      key: SIGNING_KEYS.next,
      url: `${PUBLIC_BASE_URL}${CALLBACK_PATH}`,
      body,
    })
    sentSignatures.push(signature)
    const res = await t.app.request(CALLBACK_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'upstash-signature': signature },
      body,
    })
    expect(res.status).toBe(200)
    expect(handled).toContain(runId)
  })
})

describe('account (Bearer) operations, from the contract', () => {
  // Operations where a token is optional (catalog, tours, media) are covered by their own access tests.
  const bearerOps = OPS.filter((o) => o.bearerRequired)
  const gorod = { 'X-App-Key': DEV_KEYS.gorod }
  const account = async () =>
    json(await t.app.request('/v1/accounts', { method: 'POST', headers: gorod })) as Promise<{
      access_token: string
    }>

  it('the contract names the Bearer operations, each with the app key too', () => {
    expect(bearerOps.length).toBeGreaterThanOrEqual(3)
    for (const op of bearerOps) expect(op.security).toContain('AppKey')
  })

  it.each(bearerOps.map((o) => [`${o.method} ${o.path}`, o] as const))(
    "%s: missing token 401, garbage 401, another tenant's token 403, a deleted account's token 401",
    async (_name, op) => {
      const call = (headers: Record<string, string>) => t.app.request(request(op, headers))
      const missing = await call(gorod)
      expect(missing.status).toBe(401)
      expect((await json(missing)).code).toBe('ACCOUNT_TOKEN_REQUIRED')
      const garbage = await call({ ...gorod, Authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' })
      expect(garbage.status).toBe(401)
      const { access_token } = await account()
      const other = await call({ 'X-App-Key': DEV_KEYS.progulki, Authorization: `Bearer ${access_token}` })
      expect(other.status).toBe(403)
      expect((await json(other)).code).toBe('ACCOUNT_TENANT_MISMATCH')
      const ok = await call({ ...gorod, Authorization: `Bearer ${access_token}` })
      // A valid token of this app is accepted: no credential problem, and no 5xx. Operations without a
      // body succeed; with one, the contract's example body may be refused for what it says (4xx).
      if (op.method === 'GET' || op.method === 'DELETE') expect([200, 202]).toContain(ok.status)
      else {
        expect([401, 403]).not.toContain(ok.status)
        expect(ok.status).toBeLessThan(500)
      }
      const doomed = await account()
      const del = await t.app.request('/v1/me', {
        method: 'DELETE',
        headers: { ...gorod, Authorization: `Bearer ${doomed.access_token}` },
      })
      expect(del.status).toBe(202)
      if (op.method !== 'DELETE') {
        const gone = await call({ ...gorod, Authorization: `Bearer ${doomed.access_token}` })
        expect(gone.status).toBe(401)
        expect((await json(gone)).code).toBe('ACCOUNT_INACTIVE')
      }
    },
  )
})

describe('tenant isolation, from the contract', () => {
  it('the second tenant does not offer kazan; the first does', async () => {
    const cities = async (key: string) =>
      (await json(await t.app.request('/v1/cities', { headers: { 'X-App-Key': key } }))).items.map(
        (c: { slug: string }) => c.slug,
      )
    expect(await cities(DEV_KEYS.gorod)).toContain('kazan')
    expect(await cities(DEV_KEYS.progulki)).not.toContain('kazan')
  })

  it.each(tenantOps.map((o) => [`${o.method} ${o.path}`, o] as const))(
    '%s: with the second tenant key no answer carries kazan; without a key 401',
    async (_name, op) => {
      const path = fillPath(op, (name) => (name.includes('id') ? SOME_ID : 'kazan'))
      const queries = [
        '',
        '?city=kazan',
        '?city_slug=kazan',
        '?lat=55.7964&lon=49.1089&city=kazan',
        '?q=Казань',
      ]
      for (const q of queries) {
        const res = await t.app.request(`${path}${q}`, {
          method: op.method,
          headers: { 'X-App-Key': DEV_KEYS.progulki },
        })
        expect(res.status).toBeLessThan(500)
        const text = await res.text()
        if (res.status === 200) {
          expect(text).not.toContain('"kazan"')
          expect(text).not.toContain('Казань')
        }
        const anonymous = await t.app.request(`${path}${q}`, { method: op.method })
        expect(anonymous.status).toBe(401)
        const forged = await t.app.request(`${path}${q}`, {
          method: op.method,
          headers: { 'X-App-Key': 'dev-kazan-app-key' },
        })
        expect(forged.status).toBe(401)
      }
    },
  )
})

describe('no credential in any log line', () => {
  it('the admin token, the app-facing secrets and every signature sent stay out of the logs', () => {
    expect(t.logs.lines.length).toBeGreaterThan(20)
    for (const secret of [ADMIN_TOKEN, ...SECRETS, ...sentSignatures]) {
      expect(t.logs.text).not.toContain(secret)
    }
  })
})
