import { createRoute, z } from '@hono/zod-openapi'
import { requireAccount } from '../../platform/auth/index.js'
import { requireAdmin } from '../../platform/http/admin-auth.js'
import { errorResponses } from '../../platform/http/problem.js'

/** Both at once: the token is valid only with the X-App-Key of the app it was issued to. */
const account = [{ AppKey: [], Bearer: [] }]
const admin = [{ AdminToken: [] }]
const Store = z.enum(['apple', 'rustore'])
const noStoreHeader = { 'Cache-Control': { schema: { type: 'string' as const } } }

export const EntitlementSchema = z
  .object({
    catalog_item_id: z.number().int(),
    slug: z.string(),
    kind: z.enum(['tour', 'bundle']),
    title_ru: z.string(),
    source: z.enum(['free', 'grant', 'purchase', 'restore']).openapi({
      description: '`purchase`: confirmed by a store for this account; `restore`: moved here by a restore.',
    }),
    granted_at: z.string(),
    store: Store.nullable(),
    environment: z.enum(['production', 'sandbox']).nullable().openapi({
      description: 'Sandbox purchases (App Review, testers) are accepted unless the deployment refuses them.',
    }),
  })
  .openapi('Entitlement')

const Entitlements = z.array(EntitlementSchema)

const TransactionSchema = z
  .object({
    store: Store,
    environment: z.enum(['production', 'sandbox']),
    store_transaction_id: z.string(),
    product_id: z.string().nullable(),
    status: z.literal('purchased'),
  })
  .openapi('StoreTransaction')

export const ConfirmedSchema = z
  .object({ status: z.literal('confirmed'), transaction: TransactionSchema, entitlements: Entitlements })
  .openapi('PurchaseConfirmed')

export const PendingSchema = z
  .object({
    status: z.literal('pending'),
    claim_id: z.string().openapi({ description: 'The recorded claim; a job asks the store again.' }),
    retry_after_seconds: z.number().int(),
    detail: z.string(),
  })
  .openapi('PurchasePending')

const confirmResponses = {
  200: {
    description: 'The store confirmed the purchase: the entitlements of the account now.',
    content: { 'application/json': { schema: ConfirmedSchema } },
  },
  202: {
    description:
      'The store is still processing the payment: ask again after Retry-After (nothing granted yet).',
    headers: { 'Retry-After': { schema: { type: 'string' as const } } },
    content: { 'application/json': { schema: PendingSchema } },
  },
  ...errorResponses(401, 403, 409, 422, 503),
}

export const intentRoute = createRoute({
  method: 'post',
  path: '/v1/purchases/intents',
  tags: ['purchases'],
  summary: 'Announce a purchase: binds the coming store transaction to this account',
  description:
    'Pass `app_account_token` as StoreKit `appAccountToken` (Apple) or `order_id` as the Pay SDK `orderId` (RuStore). ' +
    'Asking again before buying answers the same intent. No price is stored or served: the store SDK shows it.',
  security: account,
  middleware: [requireAccount] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ catalog_item_id: z.number().int().min(1).max(2_147_483_647), store: Store })
            .strict()
            .openapi('PurchaseIntentRequest'),
        },
      },
    },
  },
  responses: {
    201: {
      description: 'The intent.',
      headers: noStoreHeader,
      content: {
        'application/json': {
          schema: z
            .object({
              intent_id: z.uuid(),
              catalog_item_id: z.number().int(),
              store: Store,
              product_id: z.string().openapi({ description: 'The store product to buy.' }),
              app_account_token: z.uuid(),
              order_id: z.uuid(),
            })
            .openapi('PurchaseIntent'),
        },
      },
    },
    ...errorResponses(401, 403, 409, 422),
  },
})

/** A store's confirmation route: the account's proof in, the same answers for every store. */
function confirmRoute<Body extends z.ZodType>(store: 'apple' | 'rustore', summary: string, body: Body) {
  return createRoute({
    method: 'post',
    path: `/v1/purchases/${store}`,
    tags: ['purchases'],
    summary,
    security: account,
    middleware: [requireAccount] as const,
    request: { body: { required: true, content: { 'application/json': { schema: body } } } },
    responses: confirmResponses,
  })
}

export const appleConfirmRoute = confirmRoute(
  'apple',
  'Confirm an App Store purchase (StoreKit 2 jwsRepresentation, verified offline)',
  z
    .object({ signed_transaction: z.string().min(1).max(32_768) })
    .strict()
    .openapi('AppleConfirmRequest'),
)

export const rustoreConfirmRoute = confirmRoute(
  'rustore',
  'Confirm a RuStore purchase (the server reads the invoice from RuStore)',
  z
    .object({
      invoice_id: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/),
      sandbox: z.boolean().optional().openapi({ description: 'The Pay SDK `sandbox` flag.' }),
    })
    .strict()
    .openapi('RuStoreConfirmRequest'),
)

export const restoreRoute = createRoute({
  method: 'post',
  path: '/v1/purchases/restore',
  tags: ['purchases'],
  summary: 'Re-grant to this account what the stores confirm (a new install, a new phone)',
  description:
    'A purchase held by another account of this app moves here (that account loses it); the ledger keeps its first owner.',
  security: account,
  middleware: [requireAccount] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              apple: z.array(z.string().min(1).max(32_768)).max(50).optional(),
              rustore: z
                .array(
                  z
                    .object({
                      invoice_id: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/),
                      sandbox: z.boolean().optional(),
                    })
                    .strict(),
                )
                .max(50)
                .optional(),
            })
            .strict()
            .openapi('RestoreRequest'),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'What each proof gave, and the entitlements of the account now.',
      content: {
        'application/json': {
          schema: z
            .object({
              results: z.array(
                z.object({
                  store: Store,
                  reference: z.string(),
                  outcome: z.enum(['restored', 'owned', 'pending', 'refused', 'unavailable']),
                  detail: z.string().optional(),
                }),
              ),
              entitlements: Entitlements,
            })
            .openapi('RestoreResult'),
        },
      },
    },
    ...errorResponses(401, 403),
  },
})

export const entitlementsRoute = createRoute({
  method: 'get',
  path: '/v1/me/entitlements',
  tags: ['purchases'],
  summary: 'What the account owns now (catalog items)',
  security: account,
  middleware: [requireAccount] as const,
  responses: {
    200: {
      description: 'Open entitlements, oldest first.',
      headers: noStoreHeader,
      content: {
        'application/json': { schema: z.object({ entitlements: Entitlements }).openapi('Entitlements') },
      },
    },
    ...errorResponses(401, 403),
  },
})

const ReceivedSchema = z
  .object({ received: z.literal(true), duplicate: z.boolean() })
  .openapi('NotificationReceived')

const notificationResponses = {
  200: {
    description: 'Stored (or already stored: `duplicate`); processed by a job that reads the store again.',
    content: { 'application/json': { schema: ReceivedSchema } },
  },
  ...errorResponses(401, 422, 503),
}

export const appleNotificationRoute = createRoute({
  method: 'post',
  path: '/v1/stores/apple/notifications',
  tags: ['stores'],
  summary: 'App Store Server Notifications V2 (signedPayload verified against the configured roots)',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ signedPayload: z.string().min(1).max(65_536) }).openapi('AppleNotification'),
        },
      },
    },
  },
  responses: notificationResponses,
})

export const rustoreNotificationRoute = createRoute({
  method: 'post',
  path: '/v1/stores/rustore/notifications',
  tags: ['stores'],
  summary: 'RuStore payment notifications (payload AES-256-GCM under the console key)',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              id: z.string().min(1).max(200),
              timestamp: z.string().max(100).optional(),
              payload: z.string().min(1).max(65_536),
            })
            .openapi('RuStoreNotification'),
        },
      },
    },
  },
  responses: notificationResponses,
})

export const ledgerSummaryRoute = createRoute({
  method: 'get',
  path: '/v1/admin/purchases/summary',
  tags: ['purchases'],
  summary: 'Ledger transactions by tenant, store, environment and latest status (sandbox apart)',
  security: admin,
  middleware: [requireAdmin] as const,
  responses: {
    200: {
      description: 'Counts; no amounts exist anywhere (the stores hold prices).',
      content: {
        'application/json': {
          schema: z
            .object({
              rows: z.array(
                z.object({
                  tenant: z.string(),
                  store: Store,
                  environment: z.enum(['production', 'sandbox']),
                  status: z.enum(['purchased', 'pending', 'failed', 'cancelled', 'refunded', 'revoked']),
                  transactions: z.number().int(),
                }),
              ),
            })
            .openapi('LedgerSummary'),
        },
      },
    },
    ...errorResponses(401, 403),
  },
})
