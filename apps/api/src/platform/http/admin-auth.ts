import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './context.js'
import { AppError } from './errors.js'

export const ADMIN_TOKEN_HEADER = 'X-Admin-Token'

/**
 * Equal in constant time whatever the inputs: both sides are hashed first, so neither the content
 * nor the length of the configured token leaks through timing.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** Operator routes: closed when no token is configured, never open. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.var.deps.config.adminToken
  if (!expected)
    throw new AppError('ADMIN_DISABLED', 'ADMIN_API_TOKEN is not configured: the admin API is closed')
  const given = c.req.header(ADMIN_TOKEN_HEADER)
  if (!given) throw new AppError('ADMIN_TOKEN_REQUIRED', `Send the operator token in ${ADMIN_TOKEN_HEADER}`)
  if (!secretsEqual(given, expected))
    throw new AppError('ADMIN_TOKEN_INVALID', 'The operator token is not valid')
  await next()
}
