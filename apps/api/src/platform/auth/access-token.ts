import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose'
import { ALG, type KeyRing } from './key-ring.js'

export const ACCESS_TOKEN_TYPE = 'at+jwt'

export interface AccessClaims {
  accountId: string
  tenantSlug: string
}

/** A 15-minute (configurable) EdDSA JWT: `sub` the account, `tenant` its slug, `kid` in the header. */
export async function issueAccessToken(
  ring: KeyRing,
  claims: AccessClaims,
  opts: { audience: string; ttlSeconds: number; now?: Date },
): Promise<string> {
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000)
  return new SignJWT({ tenant: claims.tenantSlug })
    .setProtectedHeader({ alg: ALG, kid: ring.current.kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(claims.accountId)
    .setAudience(opts.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .sign(ring.current.privateKey)
}

export type VerifyFailure = 'expired' | 'invalid'

export class AccessTokenError extends Error {
  constructor(readonly reason: VerifyFailure) {
    super(reason === 'expired' ? 'access token expired' : 'access token invalid')
    this.name = 'AccessTokenError'
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Only EdDSA with a key of the ring, named by `kid`: `alg: none`, another algorithm, an unknown key,
 * a changed claim or a wrong audience all fail alike.
 */
export async function verifyAccessToken(
  ring: KeyRing,
  token: string,
  opts: { audience: string; now?: Date },
): Promise<AccessClaims> {
  let payload: JWTPayload
  try {
    const result = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? ring.verifying.get(header.kid) : undefined
        if (!key) throw new errors.JWKSNoMatchingKey()
        return key.publicKey
      },
      {
        algorithms: [ALG],
        audience: opts.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'exp', 'iat'],
        ...(opts.now ? { currentDate: opts.now } : {}),
      },
    )
    payload = result.payload
  } catch (err) {
    throw new AccessTokenError(err instanceof errors.JWTExpired ? 'expired' : 'invalid')
  }
  const tenant = payload.tenant
  if (typeof tenant !== 'string' || typeof payload.sub !== 'string' || !UUID.test(payload.sub))
    throw new AccessTokenError('invalid')
  return { accountId: payload.sub, tenantSlug: tenant }
}
