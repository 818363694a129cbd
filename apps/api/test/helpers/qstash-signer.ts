import { createHash, randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'

export const SIGNING_KEYS = {
  current: 'sig_test-current-signing-key-7f3a9c',
  next: 'sig_test-next-signing-key-2b8e41',
} as const
export const QSTASH_TOKEN = 'qstash-test-token-d41d8cd98f00b204'
export const CRON_SECRET = 'cron-test-secret-0123456789abcdef'
export const PUBLIC_BASE_URL = 'https://gorod.example'

export interface SignOptions {
  key: string
  /** The URL QStash called: the JWT's `sub`. */
  url: string
  /** The raw request body, byte for byte. */
  body: string
  /** Seconds relative to now; QStash issues a token valid for five minutes from now. */
  issuedAt?: number
  notBefore?: number
  expiresIn?: number
}

/**
 * `Upstash-Signature` as QStash makes it: an HS256 JWT signed with the signing key, `iss: Upstash`,
 * `sub` the destination URL and `body` the unpadded base64url SHA-256 of the raw body.
 */
export async function signQStash(opts: SignOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ body: createHash('sha256').update(opts.body).digest('base64url') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(opts.url)
    .setIssuedAt(now + (opts.issuedAt ?? 0))
    .setNotBefore(now + (opts.notBefore ?? 0))
    .setExpirationTime(now + (opts.expiresIn ?? 300))
    .setJti(`jwt_${randomUUID()}`)
    .sign(new TextEncoder().encode(opts.key))
}

/** The environment of an app on the QStash transport, pointed at a local stand-in for the QStash API. */
export function qstashEnv(qstashUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    JOBS_TRANSPORT: 'qstash',
    QSTASH_TOKEN,
    QSTASH_URL: qstashUrl,
    QSTASH_CURRENT_SIGNING_KEY: SIGNING_KEYS.current,
    QSTASH_NEXT_SIGNING_KEY: SIGNING_KEYS.next,
    PUBLIC_BASE_URL,
    CRON_SECRET,
    ...extra,
  }
}

/** Every secret a test app is given: none of them may ever reach a log line. */
export const SECRETS = [QSTASH_TOKEN, SIGNING_KEYS.current, SIGNING_KEYS.next, CRON_SECRET]
