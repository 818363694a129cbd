import type { Context, MiddlewareHandler, Next } from 'hono'
import type { AppDeps, AppEnv } from '../http/context.js'
import { AppError } from '../http/errors.js'
import { requireTenant } from '../http/tenant.js'
import { AccessTokenError, verifyAccessToken } from './access-token.js'
import { type KeyRing, loadKeyRing } from './key-ring.js'
import { withTenant } from './tenant-context.js'

const loading = new WeakMap<object, Promise<KeyRing>>()

/**
 * The deployment's key ring: handed in at start, or loaded once per database on first use. Never call
 * it inside a transaction: loading uses the pool, which on the embedded database is the transaction's
 * own single connection.
 */
export function keyRingOf(deps: Pick<AppDeps, 'keyRing' | 'database' | 'config'>): Promise<KeyRing> {
  if (deps.keyRing) return Promise.resolve(deps.keyRing)
  let ring = loading.get(deps.database)
  if (!ring) {
    ring = loadKeyRing(deps.database.db, deps.config.auth)
    ring.catch(() => loading.delete(deps.database))
    loading.set(deps.database, ring)
  }
  return ring
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="gorod"' }

function unauthorized(
  code: 'ACCOUNT_TOKEN_REQUIRED' | 'ACCOUNT_TOKEN_INVALID' | 'ACCOUNT_TOKEN_EXPIRED' | 'ACCOUNT_INACTIVE',
  detail: string,
) {
  return new AppError(code, detail, undefined, CHALLENGE)
}

/** The token of `Authorization: Bearer <token>`; undefined when no Authorization header was sent. */
function bearer(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('authorization')
  if (header === undefined) return undefined
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header)
  if (!match || match[1]!.length > 4096)
    throw unauthorized('ACCOUNT_TOKEN_INVALID', 'Заголовок Authorization должен иметь вид «Bearer <токен>»')
  return match[1]
}

export interface AccountAuthOptions {
  /** No Authorization header: go on without an account (a sent but bad token is still 401). */
  optional?: boolean
  /** Let a tombstoned account through (repeating a deletion is not an error). */
  allowDeleted?: boolean
}

/**
 * Resolves the tenant (X-App-Key) and the account of the Bearer token. A token of another tenant is
 * 403; a token whose account is deleted is 401 at once, not at its expiry: the account row is read
 * under the tenant's row-level security on every request.
 */
export function accountAuth(opts: AccountAuthOptions = {}): MiddlewareHandler<AppEnv> {
  const step = async (c: Context<AppEnv>, next: Next) => {
    const token = bearer(c)
    if (token === undefined) {
      if (opts.optional) return next()
      throw unauthorized(
        'ACCOUNT_TOKEN_REQUIRED',
        'Передайте токен доступа в заголовке Authorization: Bearer',
      )
    }
    const { deps, tenant } = c.var
    const ring = await keyRingOf(deps)
    let claims: Awaited<ReturnType<typeof verifyAccessToken>>
    try {
      claims = await verifyAccessToken(ring, token, {
        audience: deps.config.auth.audience,
        now: deps.clock.now(),
      })
    } catch (err) {
      if (err instanceof AccessTokenError && err.reason === 'expired')
        throw unauthorized(
          'ACCOUNT_TOKEN_EXPIRED',
          'Срок действия токена истёк: обновите его через /v1/auth/refresh',
        )
      throw unauthorized('ACCOUNT_TOKEN_INVALID', 'Токен доступа недействителен')
    }
    if (claims.tenantSlug !== tenant.slug)
      throw new AppError('ACCOUNT_TENANT_MISMATCH', 'Токен выдан другому приложению и здесь не действует')
    const row = await withTenant(deps.database.db, tenant.id, (trx) =>
      trx.selectFrom('account').select('deleted_at').where('id', '=', claims.accountId).executeTakeFirst(),
    )
    if (!row || (row.deleted_at && !opts.allowDeleted))
      throw unauthorized('ACCOUNT_INACTIVE', 'Аккаунт удалён: токен больше не действует')
    c.set('account', { accountId: claims.accountId, tenantId: tenant.id, tenantSlug: tenant.slug })
    return next()
  }
  return async (c, next) => (c.get('tenant') ? step(c, next) : requireTenant(c, () => step(c, next)))
}

export const requireAccount = accountAuth()
export const optionalAccount = accountAuth({ optional: true })
