import { createRoute, z } from '@hono/zod-openapi'
import { accountAuth, requireAccount } from '../../platform/auth/index.js'
import { errorResponses } from '../../platform/http/problem.js'
import { requireTenant } from '../../platform/http/tenant.js'

const appKey = [{ AppKey: [] }]
/** Both at once: the token is valid only with the X-App-Key of the app it was issued to. */
const account = [{ AppKey: [], Bearer: [] }]

const TokenFields = {
  access_token: z.string().openapi({ description: 'EdDSA JWT, sent as Authorization: Bearer.' }),
  refresh_token: z.string().openapi({ description: 'Opaque; single use: every refresh returns a new one.' }),
  token_type: z.literal('Bearer'),
  expires_in: z
    .number()
    .int()
    .openapi({ description: 'Seconds until the access token expires.', example: 900 }),
}

export const TokenPairSchema = z.object(TokenFields).openapi('TokenPair')

const AccountCode = z.string().openapi({
  example: 'K3ZD8M1QW7TX',
  description: '12 characters of Crockford base32; shown in groups of four.',
})

export const createAccountRoute = createRoute({
  method: 'post',
  path: '/v1/accounts',
  tags: ['accounts'],
  summary: 'Create an anonymous account of the calling app',
  security: appKey,
  middleware: [requireTenant] as const,
  request: {
    body: { required: false, content: { 'application/json': { schema: z.object({}).strict() } } },
  },
  responses: {
    201: {
      description: 'The account and its first token pair.',
      content: {
        'application/json': {
          schema: z
            .object({ account_id: z.uuid(), account_code: AccountCode, ...TokenFields })
            .openapi('AccountCreated'),
        },
      },
    },
    ...errorResponses(401, 415),
  },
})

export const refreshRoute = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  tags: ['accounts'],
  summary: 'Exchange a refresh token for a new pair (rotation; reuse revokes the family)',
  security: appKey,
  middleware: [requireTenant] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ refresh_token: z.string().min(20).max(200) }).openapi('RefreshRequest'),
        },
      },
    },
  },
  responses: {
    200: { description: 'A new token pair.', content: { 'application/json': { schema: TokenPairSchema } } },
    ...errorResponses(401, 415),
  },
})

/** A JSON Web Key Set of Ed25519 public keys: access tokens here, pack manifests in the packs module. */
export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal('OKP'),
        crv: z.literal('Ed25519'),
        x: z.string(),
        kid: z.string(),
        alg: z.literal('EdDSA'),
        use: z.literal('sig'),
      }),
    ),
  })
  .openapi('Jwks')

export const jwksRoute = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  tags: ['accounts'],
  summary: 'Public keys that verify access tokens (current and previous)',
  responses: {
    200: {
      description: 'JSON Web Key Set (Ed25519, OKP).',
      content: {
        'application/json': {
          schema: JwksSchema,
        },
      },
    },
    ...errorResponses(),
  },
})

export const MeSchema = z
  .object({ account_id: z.uuid(), account_code: AccountCode, tenant: z.string(), created_at: z.string() })
  .openapi('Me')

export const meRoute = createRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['accounts'],
  summary: 'The account of the access token',
  security: account,
  middleware: [requireAccount] as const,
  responses: {
    200: { description: 'The account.', content: { 'application/json': { schema: MeSchema } } },
    ...errorResponses(401, 403),
  },
})

const iso = z.string().nullable()

export const exportRoute = createRoute({
  method: 'get',
  path: '/v1/me/export',
  tags: ['accounts'],
  summary: 'Everything held about the account (right of access)',
  security: account,
  middleware: [requireAccount] as const,
  responses: {
    200: {
      description: 'The account, its refresh tokens (metadata only) and its purchases.',
      content: {
        'application/json': {
          schema: z
            .object({
              exported_at: z.string(),
              account: MeSchema,
              refresh_tokens: z.array(
                z.object({
                  family_id: z.uuid(),
                  created_at: z.string(),
                  expires_at: z.string(),
                  used_at: iso,
                  revoked_at: iso,
                }),
              ),
              purchases: z.array(
                z.object({
                  store: z.string(),
                  environment: z.string(),
                  store_transaction_id: z.string(),
                  product_id: z.string().nullable(),
                  purchased_at: iso,
                  recorded_at: z.string(),
                }),
              ),
            })
            .openapi('AccountExport'),
        },
      },
    },
    ...errorResponses(401, 403),
  },
})

export const DeletionAcceptedSchema = z
  .object({
    job_id: z.uuid().openapi({ description: 'The purge job (GET /v1/jobs/{job_id} for operators).' }),
    status: z.literal('accepted'),
  })
  .openapi('DeletionAccepted')

export const deleteMeRoute = createRoute({
  method: 'delete',
  path: '/v1/me',
  tags: ['accounts'],
  summary: 'Delete the account: tombstoned now, personal data purged by a job; repeating is not an error',
  security: account,
  middleware: [accountAuth({ allowDeleted: true })] as const,
  responses: {
    202: {
      description: 'Deletion accepted: tokens of the account stop working at once.',
      content: { 'application/json': { schema: DeletionAcceptedSchema } },
    },
    ...errorResponses(401, 403),
  },
})
