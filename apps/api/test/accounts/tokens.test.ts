import { createPrivateKey } from 'node:crypto'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, configFrom } from '../../src/config.js'
import {
  AccessTokenError,
  generatePrivateJwk,
  issueAccessToken,
  type KeyRing,
  loadKeyRing,
  parseSigningKey,
  verifyAccessToken,
} from '../../src/platform/auth/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js'

const AUD = 'gorod-app'
const ACCOUNT = '7e3fb20b-4cdb-47cc-936d-99d65f608138'
const opts = { audience: AUD, ttlSeconds: 900 }

async function ringOf(current: string, previous?: string): Promise<KeyRing> {
  const config = configFrom({ AUTH_SIGNING_KEY: current, AUTH_PREVIOUS_SIGNING_KEY: previous }).auth
  return loadKeyRing(undefined as never, config)
}

async function jwkText(): Promise<string> {
  return JSON.stringify(await generatePrivateJwk())
}

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (err) => (err instanceof AccessTokenError ? err.reason : `other: ${(err as Error).message}`),
  )

describe('access tokens', () => {
  it('round-trips sub and tenant, with kid in the header, EdDSA, 15 minutes', async () => {
    const ring = await ringOf(await jwkText())
    const token = await issueAccessToken(ring, { accountId: ACCOUNT, tenantSlug: 'gorod' }, opts)
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()))
    expect(header).toEqual({ alg: 'EdDSA', kid: ring.current.kid, typ: 'at+jwt' })
    expect(payload.exp - payload.iat).toBe(900)
    expect(payload).toMatchObject({ sub: ACCOUNT, tenant: 'gorod', aud: AUD })
    expect(await verifyAccessToken(ring, token, { audience: AUD })).toEqual({
      accountId: ACCOUNT,
      tenantSlug: 'gorod',
    })
  })

  it('refuses expired, wrong-key, alg none, changed-claim and wrong-audience tokens', async () => {
    const ring = await ringOf(await jwkText())
    const other = await ringOf(await jwkText())
    const claims = { accountId: ACCOUNT, tenantSlug: 'gorod' }
    const token = await issueAccessToken(ring, claims, opts)

    const past = new Date(Date.now() - 3_600_000)
    const expired = await issueAccessToken(ring, claims, { ...opts, now: past })
    expect(await reasonOf(verifyAccessToken(ring, expired, { audience: AUD }))).toBe('expired')

    const foreign = await issueAccessToken(other, claims, opts)
    expect(await reasonOf(verifyAccessToken(ring, foreign, { audience: AUD }))).toBe('invalid')
    // The same kid as ours, signed by another key.
    const [h0, p0] = token.split('.')
    const forgedSig = (await issueAccessToken(other, claims, opts)).split('.')[2]
    expect(await reasonOf(verifyAccessToken(ring, `${h0}.${p0}.${forgedSig}`, { audience: AUD }))).toBe(
      'invalid',
    )

    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const payload = JSON.parse(Buffer.from(p0!, 'base64url').toString())
    const none = `${b64({ alg: 'none', typ: 'at+jwt', kid: ring.current.kid })}.${p0}.`
    expect(await reasonOf(verifyAccessToken(ring, none, { audience: AUD }))).toBe('invalid')

    const changed = `${h0}.${b64({ ...payload, tenant: 'progulki' })}.${token.split('.')[2]}`
    expect(await reasonOf(verifyAccessToken(ring, changed, { audience: AUD }))).toBe('invalid')
    const otherSub = `${h0}.${b64({ ...payload, sub: '00000000-0000-4000-8000-000000000000' })}.${token.split('.')[2]}`
    expect(await reasonOf(verifyAccessToken(ring, otherSub, { audience: AUD }))).toBe('invalid')

    expect(await reasonOf(verifyAccessToken(ring, token, { audience: 'another-app' }))).toBe('invalid')
    expect(await reasonOf(verifyAccessToken(ring, 'not.a.token', { audience: AUD }))).toBe('invalid')

    // A validly signed token of another type (no typ) is not an access token.
    const untyped = await new SignJWT({ tenant: 'gorod' })
      .setProtectedHeader({ alg: 'EdDSA', kid: ring.current.kid })
      .setSubject(ACCOUNT)
      .setAudience(AUD)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(ring.current.privateKey)
    expect(await reasonOf(verifyAccessToken(ring, untyped, { audience: AUD }))).toBe('invalid')
  })

  it('after a rotation, a token signed by the previous key still verifies; new tokens use the new key', async () => {
    const oldKey = await jwkText()
    const newKey = await jwkText()
    const before = await ringOf(oldKey)
    const token = await issueAccessToken(before, { accountId: ACCOUNT, tenantSlug: 'gorod' }, opts)
    const after = await ringOf(newKey, oldKey)
    expect(await verifyAccessToken(after, token, { audience: AUD })).toMatchObject({ accountId: ACCOUNT })
    const fresh = await issueAccessToken(after, { accountId: ACCOUNT, tenantSlug: 'gorod' }, opts)
    expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid).toBe(after.current.kid)
    expect(after.current.kid).not.toBe(before.current.kid)
    // Once the previous key is dropped, its tokens stop verifying.
    const later = await ringOf(newKey)
    expect(await reasonOf(verifyAccessToken(later, token, { audience: AUD }))).toBe('invalid')
  })

  it('accepts a PKCS#8 PEM and refuses a key that is not Ed25519', async () => {
    const jwk = await generatePrivateJwk()
    const pem = createPrivateKey({ key: jwk as never, format: 'jwk' }).export({
      type: 'pkcs8',
      format: 'pem',
    })
    expect((await parseSigningKey(String(pem))).kid).toBe((await parseSigningKey(JSON.stringify(jwk))).kid)
    await expect(parseSigningKey(JSON.stringify({ kty: 'EC', crv: 'P-256', d: 'x' }))).rejects.toThrow(
      /Ed25519/,
    )
  })
})

describe('signing key configuration', () => {
  it('production on a server database refuses to start without a configured key', () => {
    const prod = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db.example/gorod' }
    expect(() => configFrom(prod)).toThrow(ConfigError)
    expect(() => configFrom(prod)).toThrow(/AUTH_SIGNING_KEY/)
  })

  it('a configured key that is not a key stops the key ring from loading', async () => {
    await expect(ringOf('not a key')).rejects.toThrow()
  })
})

describe('key ring on the embedded default', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(() => database.close())

  it('generates a key once and keeps it in the database, so a restart verifies old tokens', async () => {
    const config = configFrom().auth
    const first = await loadKeyRing(database.db, config)
    expect(first.source).toBe('database')
    const token = await issueAccessToken(first, { accountId: ACCOUNT, tenantSlug: 'gorod' }, opts)
    const again = await loadKeyRing(database.db, config)
    expect(again.current.kid).toBe(first.current.kid)
    expect(await verifyAccessToken(again, token, { audience: AUD })).toMatchObject({ accountId: ACCOUNT })
    const rows = await database.db.selectFrom('auth_signing_key').select('kid').execute()
    expect(rows).toEqual([{ kid: first.current.kid }])
  })
})
