import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv, Operator } from './context.js'
import { AppError } from './errors.js'

export const ADMIN_TOKEN_HEADER = 'X-Admin-Token'

/** The name recorded for the shared ADMIN_API_TOKEN when a request names no `by`. */
export const SHARED_OPERATOR = 'admin'

/**
 * Equal in constant time whatever the inputs: both sides are hashed first, so neither the content
 * nor the length of the configured token leaks through timing.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/**
 * The operator a token belongs to. Every configured token is compared (no early exit), so the time
 * taken does not tell which one matched, or how many there are before it.
 */
function operatorOf(c: Context<AppEnv>, given: string): Operator | null {
  const { adminToken, adminOperators } = c.var.deps.config
  let found: Operator | null = null
  for (const op of adminOperators) {
    if (secretsEqual(given, op.token) && !found) found = { name: op.name, named: true }
  }
  if (adminToken && secretsEqual(given, adminToken) && !found) found = { name: SHARED_OPERATOR, named: false }
  return found
}

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Operator routes: closed when no token is configured, never open. A successful change (POST, PUT,
 * PATCH, DELETE answered 2xx/3xx) is recorded in `admin_action` under the operator's name after the
 * handler has answered; a failure to record is logged, the change stands.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { adminToken, adminOperators } = c.var.deps.config
  if (!adminToken && adminOperators.length === 0)
    throw new AppError(
      'ADMIN_DISABLED',
      'ADMIN_API_TOKEN and ADMIN_TOKENS are not configured: the admin API is closed',
    )
  const given = c.req.header(ADMIN_TOKEN_HEADER)
  if (!given) throw new AppError('ADMIN_TOKEN_REQUIRED', `Send the operator token in ${ADMIN_TOKEN_HEADER}`)
  const operator = operatorOf(c, given)
  if (!operator) throw new AppError('ADMIN_TOKEN_INVALID', 'The operator token is not valid')
  c.set('operator', operator)
  await next()
  if (MUTATIONS.has(c.req.method) && c.res.status < 400) await recordAction(c)
}

/**
 * Who acts: a named operator always acts under its own name (a `by` in the body cannot change it);
 * the shared token acts under the body's `by`, or `admin` when there is none.
 */
export function actingOperator(c: Context<AppEnv>, by?: string | undefined): string {
  const op = c.var.operator
  if (!op) throw new Error('actingOperator outside requireAdmin')
  return op.named ? op.name : (by ?? SHARED_OPERATOR)
}

async function recordAction(c: Context<AppEnv>): Promise<void> {
  const { database, log } = c.var.deps
  try {
    const detail: Record<string, unknown> = {}
    // The validated JSON body, when the route has one (never a secret: admin bodies carry content).
    const body = validatedJson(c)
    if (body !== undefined) detail.request = body
    if (c.res.headers.get('content-type')?.startsWith('application/json')) {
      const answer = (await c.res.clone().json()) as Record<string, unknown>
      for (const key of ['job_id', 'id', 'outcome', 'status'] as const)
        if (answer && typeof answer === 'object' && key in answer) detail[key] = answer[key]
    }
    await database.db
      .insertInto('admin_action')
      .values({
        operator: actingOperator(c, typeof body?.by === 'string' ? body.by : undefined),
        method: c.req.method as 'POST',
        path: c.req.path,
        status: c.res.status,
        // jsonb holds no NUL character: one in a recorded string is written as U+FFFD.
        detail: Object.keys(detail).length
          ? JSON.stringify(detail, (_k, v) => (typeof v === 'string' ? v.replaceAll('\u0000', '\ufffd') : v))
          : null,
      })
      .execute()
  } catch (err) {
    log.error({ err, path: c.req.path }, 'admin action not recorded')
  }
}

function validatedJson(c: Context<AppEnv>): Record<string, unknown> | undefined {
  const v = (c.req as unknown as { valid(target: string): unknown }).valid('json')
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined
}
