import { createHash, randomBytes } from 'node:crypto'

/** Opaque: 32 random bytes. Only its SHA-256 is stored, so a database copy yields no usable token. */
export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}
