import { createPrivateKey } from 'node:crypto'
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey as JoseKey,
  type JWK,
} from 'jose'
import type { Kysely } from 'kysely'
import type { AuthConfig } from '../../config.js'
import type { DB } from '../db/schema.js'

export interface SigningKey {
  kid: string
  privateKey: JoseKey
  /** Public half as a JWK with `kid`, `alg`, `use`: what the JWKS publishes. */
  publicJwk: JWK
  publicKey: JoseKey
}

/** The current key signs; the current and the previous one verify (rotation without logging anyone out). */
export interface KeyRing {
  current: SigningKey
  verifying: Map<string, SigningKey>
  source: 'config' | 'database'
}

export const ALG = 'EdDSA'

/** A configured key: a private JWK (JSON) or a PKCS#8 PEM, Ed25519 only. */
export async function parseSigningKey(text: string): Promise<SigningKey> {
  let jwk: JWK
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) jwk = JSON.parse(trimmed) as JWK
  else jwk = createPrivateKey(trimmed).export({ format: 'jwk' }) as JWK
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d)
    throw new Error('an auth signing key must be an Ed25519 private key')
  return keyFromJwk(jwk)
}

async function keyFromJwk(jwk: JWK): Promise<SigningKey> {
  const { d: _d, kid: _kid, ...pub } = jwk
  const kid = await calculateJwkThumbprint({ kty: pub.kty, crv: pub.crv, x: pub.x } as JWK)
  const privateKey = (await importJWK({ ...jwk, alg: ALG }, ALG)) as JoseKey
  const publicJwk: JWK = { kty: pub.kty, crv: pub.crv, x: pub.x, kid, alg: ALG, use: 'sig' }
  const publicKey = (await importJWK(publicJwk, ALG)) as JoseKey
  return { kid, privateKey, publicJwk, publicKey }
}

/** A fresh Ed25519 private key as a JWK (what the database keeps, and what AUTH_SIGNING_KEY takes). */
export async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true })
  return exportJWK(privateKey)
}

function ring(current: SigningKey, previous: SigningKey | null, source: KeyRing['source']): KeyRing {
  const verifying = new Map([[current.kid, current]])
  if (previous) verifying.set(previous.kid, previous)
  return { current, verifying, source }
}

/**
 * Configured keys win. Without them (the embedded default, development) a key is generated once and
 * kept in the database, so a restart keeps issued tokens valid; two processes starting together
 * agree on the first key inserted. Call it outside any transaction (it uses the pool).
 */
export async function loadKeyRing(db: Kysely<DB>, config: AuthConfig): Promise<KeyRing> {
  if (config.signingKey) {
    const previous = config.previousSigningKey ? await parseSigningKey(config.previousSigningKey) : null
    return ring(await parseSigningKey(config.signingKey), previous, 'config')
  }
  const stored = await db
    .selectFrom('auth_signing_key')
    .select(['kid', 'private_jwk'])
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .limit(2)
    .execute()
  if (stored.length === 0) {
    const jwk = await generatePrivateJwk()
    const fresh = await keyFromJwk(jwk)
    await db
      .insertInto('auth_signing_key')
      .values({ kid: fresh.kid, private_jwk: JSON.stringify(jwk) })
      .onConflict((oc) => oc.doNothing())
      .execute()
    return loadKeyRing(db, config)
  }
  const [current, previous] = await Promise.all(stored.map((s) => keyFromJwk(s.private_jwk as JWK)))
  return ring(current!, previous ?? null, 'database')
}
