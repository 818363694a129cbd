import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto'
import canonicalize from 'canonicalize'
import type { Kysely } from 'kysely'
import type { PacksConfig } from '../../config.js'
import type { DB } from '../../platform/db/schema.js'

/**
 * The key that signs pack manifests: Ed25519 over the RFC 8785 canonical JSON of the manifest
 * without its `signature`. Configured (PACK_SIGNING_KEY), or generated once and kept in the database
 * so every process of a deployment signs with the same key. The key id is the RFC 7638 thumbprint.
 */
export interface PackSigner {
  kid: string
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string }
  sign(manifest: Record<string, unknown>): string
}

const cache = new WeakMap<Kysely<DB>, Promise<PackSigner[]>>()

/** Every signer this deployment knows, the current (oldest) one first. */
export function packSigners(db: Kysely<DB>, config: PacksConfig): Promise<PackSigner[]> {
  let signers = cache.get(db)
  if (!signers) {
    signers = load(db, config)
    signers.catch(() => cache.delete(db))
    cache.set(db, signers)
  }
  return signers
}

async function load(db: Kysely<DB>, config: PacksConfig): Promise<PackSigner[]> {
  if (config.signingKeyPem) return [signer(createPrivateKey(config.signingKeyPem))]
  const read = () =>
    db.selectFrom('pack_signing_key').selectAll().orderBy('created_at').orderBy('kid').execute()
  let rows = await read()
  if (!rows.length) {
    const { privateKey } = generateKeyPairSync('ed25519')
    const s = signer(privateKey)
    await db
      .insertInto('pack_signing_key')
      .values({
        kid: s.kid,
        private_pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        public_x: s.publicJwk.x,
      })
      .execute()
    // Two processes starting at once may both generate: the oldest row is the current key for all.
    rows = await read()
  }
  return rows.map((r) => signer(createPrivateKey(r.private_pkcs8)))
}

function signer(privateKey: KeyObject): PackSigner {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string }
  const publicJwk = { kty: 'OKP' as const, crv: 'Ed25519' as const, x: jwk.x }
  const kid = createHash('sha256')
    .update(canonicalize({ crv: 'Ed25519', kty: 'OKP', x: jwk.x })!)
    .digest('base64url')
  return {
    kid,
    publicJwk,
    sign: (manifest) => sign(null, Buffer.from(canonicalForm(manifest)), privateKey).toString('base64url'),
  }
}

/** The bytes a signature covers: the manifest without `signature`, RFC 8785 canonical JSON. */
export function canonicalForm(manifest: Record<string, unknown>): string {
  const { signature: _omit, ...rest } = manifest
  return canonicalize(rest)!
}
