import type { RouteHandler } from '@hono/zod-openapi'
import type { AppEnv } from '../../platform/http/context.js'
import { receiveApple, receiveRuStore } from './notifications.js'
import type {
  appleConfirmRoute,
  appleNotificationRoute,
  entitlementsRoute,
  intentRoute,
  ledgerSummaryRoute,
  restoreRoute,
  rustoreConfirmRoute,
  rustoreNotificationRoute,
} from './purchases.routes.js'
import {
  type ConfirmOutcome,
  confirmPurchase,
  createIntent,
  ledgerSummary,
  listEntitlements,
  type Proof,
  restorePurchases,
} from './purchases.service.js'

const noStore = { 'cache-control': 'no-store' }

export const postIntent: RouteHandler<typeof intentRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json')
  const intent = await createIntent(c.var.deps, c.var.tenant, c.var.account.accountId, {
    catalogItemId: body.catalog_item_id,
    store: body.store,
  })
  return c.json(intent, 201, noStore)
}

function answer(
  c: Parameters<RouteHandler<typeof appleConfirmRoute | typeof rustoreConfirmRoute, AppEnv>>[0],
  outcome: ConfirmOutcome,
) {
  if (outcome.kind === 'pending')
    return c.json(
      {
        status: 'pending' as const,
        claim_id: outcome.claimId,
        retry_after_seconds: outcome.retryAfter,
        detail: 'Магазин ещё обрабатывает оплату. Доступ откроется, как только магазин её подтвердит.',
      },
      202,
      { ...noStore, 'retry-after': String(outcome.retryAfter) },
    )
  return c.json(
    {
      status: 'confirmed' as const,
      transaction: { ...outcome.transaction, status: 'purchased' as const },
      entitlements: outcome.entitlements,
    },
    200,
    noStore,
  )
}

export const postApple: RouteHandler<typeof appleConfirmRoute, AppEnv> = async (c) => {
  const proof: Proof = { store: 'apple', signedTransaction: c.req.valid('json').signed_transaction }
  return answer(c, await confirmPurchase(c.var.deps, c.var.tenant, c.var.account.accountId, proof))
}

export const postRuStore: RouteHandler<typeof rustoreConfirmRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json')
  const proof: Proof = { store: 'rustore', invoiceId: body.invoice_id, sandbox: body.sandbox ?? false }
  return answer(c, await confirmPurchase(c.var.deps, c.var.tenant, c.var.account.accountId, proof))
}

export const postRestore: RouteHandler<typeof restoreRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json')
  const proofs: Proof[] = [
    ...(body.apple ?? []).map((signedTransaction) => ({ store: 'apple' as const, signedTransaction })),
    ...(body.rustore ?? []).map((r) => ({
      store: 'rustore' as const,
      invoiceId: r.invoice_id,
      sandbox: r.sandbox ?? false,
    })),
  ]
  return c.json(
    await restorePurchases(c.var.deps, c.var.tenant, c.var.account.accountId, proofs),
    200,
    noStore,
  )
}

export const getEntitlements: RouteHandler<typeof entitlementsRoute, AppEnv> = async (c) =>
  c.json(
    { entitlements: await listEntitlements(c.var.deps, c.var.tenant, c.var.account.accountId) },
    200,
    noStore,
  )

export const postAppleNotification: RouteHandler<typeof appleNotificationRoute, AppEnv> = async (c) =>
  c.json(await receiveApple(c.var.deps, c.req.valid('json').signedPayload), 200)

export const postRuStoreNotification: RouteHandler<typeof rustoreNotificationRoute, AppEnv> = async (c) =>
  c.json(await receiveRuStore(c.var.deps, c.req.valid('json')), 200)

export const getLedgerSummary: RouteHandler<typeof ledgerSummaryRoute, AppEnv> = async (c) =>
  c.json({ rows: await ledgerSummary(c.var.deps) }, 200, noStore)
