import type { RouteHandler } from '@hono/zod-openapi'
import { keyRingOf } from '../../platform/auth/index.js'
import type { AppEnv } from '../../platform/http/context.js'
import type {
  createAccountRoute,
  deleteMeRoute,
  exportRoute,
  jwksRoute,
  meRoute,
  refreshRoute,
} from './accounts.routes.js'
import {
  accountView,
  createAccount,
  deleteAccount,
  exportAccount,
  refreshTokens,
} from './accounts.service.js'

const noStore = { 'cache-control': 'no-store' }

export const postAccount: RouteHandler<typeof createAccountRoute, AppEnv> = async (c) =>
  c.json(await createAccount(c.var.deps, c.var.tenant), 201, noStore)

export const postRefresh: RouteHandler<typeof refreshRoute, AppEnv> = async (c) =>
  c.json(await refreshTokens(c.var.deps, c.var.tenant, c.req.valid('json').refresh_token), 200, noStore)

export const getJwks: RouteHandler<typeof jwksRoute, AppEnv> = async (c) => {
  const ring = await keyRingOf(c.var.deps)
  const keys = [...ring.verifying.values()].map((k) => ({
    kty: 'OKP' as const,
    crv: 'Ed25519' as const,
    x: k.publicJwk.x!,
    kid: k.kid,
    alg: 'EdDSA' as const,
    use: 'sig' as const,
  }))
  return c.json({ keys }, 200, { 'cache-control': 'public, max-age=300' })
}

export const getMe: RouteHandler<typeof meRoute, AppEnv> = async (c) =>
  c.json(await accountView(c.var.deps, c.var.tenant, c.var.account.accountId), 200, noStore)

export const getExport: RouteHandler<typeof exportRoute, AppEnv> = async (c) =>
  c.json(await exportAccount(c.var.deps, c.var.tenant, c.var.account.accountId), 200, {
    ...noStore,
    'content-disposition': 'attachment; filename="account-export.json"',
  })

export const deleteMe: RouteHandler<typeof deleteMeRoute, AppEnv> = async (c) => {
  const { jobId } = await deleteAccount(c.var.deps, c.var.tenant, c.var.account.accountId, 'app')
  return c.json({ job_id: jobId, status: 'accepted' as const }, 202)
}
