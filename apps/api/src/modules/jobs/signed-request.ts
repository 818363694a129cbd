import type { MiddlewareHandler } from 'hono'
import type { Config } from '../../config.js'
import { secretsEqual } from '../../platform/http/admin-auth.js'
import type { AppEnv } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { createSignatureVerifier } from '../../platform/jobs/qstash-queue.js'

type Verifier = ReturnType<typeof createSignatureVerifier>
const verifiers = new WeakMap<Config, Verifier | null>()

function verifierFor(config: Config): Verifier | null {
  if (!verifiers.has(config)) {
    const q = config.jobs.qstash
    verifiers.set(config, q?.currentSigningKey && q.nextSigningKey ? createSignatureVerifier(q) : null)
  }
  return verifiers.get(config) ?? null
}

/**
 * QStash signs the raw body and the URL it called. The URL is rebuilt from PUBLIC_BASE_URL, never from
 * the Host header, so a signature made for another deployment or path does not pass.
 */
async function verifyQStash(c: Parameters<MiddlewareHandler<AppEnv>>[0], signature: string): Promise<void> {
  const { config } = c.var.deps
  const verify = verifierFor(config)
  const base = config.jobs.qstash?.publicBaseUrl
  if (!verify || !base) throw new AppError('SIGNATURE_INVALID', 'QStash signing keys are not configured')
  const body = await c.req.text()
  if (!(await verify(signature, body, `${base}${c.req.path}`))) {
    throw new AppError('SIGNATURE_INVALID', 'Upstash-Signature does not verify for this body and URL')
  }
}

export const requireQStashSignature: MiddlewareHandler<AppEnv> = async (c, next) => {
  const signature = c.req.header('upstash-signature')
  if (!signature) throw new AppError('SIGNATURE_INVALID', 'Upstash-Signature header is missing')
  await verifyQStash(c, signature)
  await next()
}

/** Cron: a QStash schedule (signed) or Vercel Cron (`Authorization: Bearer $CRON_SECRET`). */
export const requireCronCaller: MiddlewareHandler<AppEnv> = async (c, next) => {
  const signature = c.req.header('upstash-signature')
  if (signature) {
    await verifyQStash(c, signature)
    return next()
  }
  const secret = c.var.deps.config.jobs.cronSecret
  const auth = c.req.header('authorization') ?? ''
  const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : null
  if (!secret || !bearer || !secretsEqual(bearer, secret)) {
    throw new AppError('SIGNATURE_INVALID', 'A QStash signature or the cron secret is required')
  }
  await next()
}
