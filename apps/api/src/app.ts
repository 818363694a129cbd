import { Scalar } from '@scalar/hono-api-reference'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { requestId } from 'hono/request-id'
import { modules } from './modules/index.js'
import { isDatabaseUnavailable } from './platform/db/errors.js'
import type { AppDeps, AppEnv } from './platform/http/context.js'
import { AppError } from './platform/http/errors.js'
import { limitBody, requestContext, requireJsonBody } from './platform/http/middleware.js'
import { withSharedErrorResponses } from './platform/http/openapi-document.js'
import { problemResponse } from './platform/http/problem.js'
import { type ContractObserver, contractCheck } from './platform/http/response-contract.js'
import { rejectUnknownRoutes } from './platform/http/route-gate.js'
import { createRouter } from './platform/http/router.js'

export const API_TITLE = 'gorod API'

/** Builds the whole HTTP app from its dependencies; importing this file does no I/O. */
export function createApp(deps: AppDeps) {
  const app = createRouter()
  let document: ReturnType<typeof contractDocument> | null = null
  const currentDocument = () => {
    document ??= contractDocument(app, deps.version)
    return document
  }

  // Outermost, so it sees every answer as sent, error answers included.
  const observer = deps.contractObserver ?? (deps.config?.validateResponses ? logMismatches(deps) : null)
  if (observer) app.use('*', contractCheck(currentDocument, observer))
  app.use('*', requestId({ headerName: 'X-Request-Id' }))
  app.use('*', requestContext(deps))
  // Before the body gates and credential checks: a route that does not exist is a 404, nothing else.
  app.use(
    '*',
    rejectUnknownRoutes(() => app.routes),
  )
  app.use('*', limitBody)
  app.use('*', requireJsonBody)

  for (const mount of modules) app.route('/', mount())

  registerSecuritySchemes(app)
  app.get('/v1/openapi.json', (c) => c.json(currentDocument()))
  app.get('/docs', Scalar({ url: '/v1/openapi.json', pageTitle: API_TITLE }))

  app.notFound((c) =>
    problemResponse('NOT_FOUND', `Маршрут ${c.req.method} ${c.req.path} не существует`, rid(c)),
  )
  app.onError((err, c) => toProblem(err, c))
  return app
}

export type App = ReturnType<typeof createApp>

/**
 * The OpenAPI document of every route. Building the app does no I/O and its middleware never runs
 * here, so no database is needed to describe the API.
 */
export function buildOpenApiDocument(version: string) {
  return contractDocument(createApp({ version } as AppDeps), version)
}

/**
 * The document generated from the routes, with the error answers the service-wide middleware can give
 * on any operation (400, 413, 415, 500, 503) declared on every operation.
 */
function contractDocument(app: ReturnType<typeof createRouter>, version: string) {
  return withSharedErrorResponses(app.getOpenAPI31Document(openApiInfo(version)))
}

/** VALIDATE_RESPONSES=1: an answer that departs from the contract is a warning in the log. */
function logMismatches(deps: AppDeps): ContractObserver {
  return ({ method, path, requestId, mismatch }) => {
    if (!mismatch) return
    deps.log.warn(
      {
        request_id: requestId,
        method,
        path,
        operation: mismatch.operation,
        status: mismatch.status,
        error: mismatch.message,
      },
      'answer departs from the contract',
    )
  }
}

export function openApiInfo(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: API_TITLE,
      version,
      description:
        'Backend of a Russian-language multi-city travel guide. Errors are RFC 9457 problem+json. ' +
        'Public reads are scoped to the calling app by `X-App-Key`; account routes add `Authorization: Bearer`; admin routes require `X-Admin-Token`. ' +
        'OSM-derived data: © OpenStreetMap contributors, ODbL-1.0.',
      license: { name: 'Proprietary; OSM data ODbL-1.0', identifier: 'LicenseRef-gorod' },
    },
    servers: [{ url: '/', description: 'This deployment' }],
  }
}

function registerSecuritySchemes(app: ReturnType<typeof createRouter>) {
  const reg = app.openAPIRegistry
  reg.registerComponent('securitySchemes', 'AppKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-App-Key',
    description: 'Public key of the calling app (tenant); not a secret.',
  })
  reg.registerComponent('securitySchemes', 'AdminToken', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Admin-Token',
    description: 'Operator token (ADMIN_API_TOKEN).',
  })
  reg.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'Access token of an account (EdDSA JWT from POST /v1/accounts or /v1/auth/refresh), sent with the X-App-Key of the same app.',
  })
  reg.registerComponent('securitySchemes', 'QStashSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'Upstash-Signature',
    description: 'JWT signed by QStash over the raw body and the URL.',
  })
  reg.registerComponent('securitySchemes', 'CronSecret', {
    type: 'http',
    scheme: 'bearer',
    description: 'CRON_SECRET, as Vercel Cron sends it.',
  })
}

function rid(c: Context<AppEnv>): string {
  return c.get('requestId') ?? 'unknown'
}

function toProblem(err: Error, c: Context<AppEnv>): Response {
  const requestId = rid(c)
  if (err instanceof AppError)
    return problemResponse(err.code, err.message, requestId, err.errors, err.headers)
  if (err instanceof HTTPException) {
    // Hono raises these for bodies it cannot parse (malformed JSON) and for its own limits.
    if (err.status === 413)
      return problemResponse('PAYLOAD_TOO_LARGE', 'Тело запроса слишком велико', requestId)
    if (err.status === 400)
      return problemResponse('MALFORMED_BODY', 'Тело запроса не разобрано как JSON', requestId)
    // zod-openapi's media-type gate: a declared non-JSON Content-Type on a bodyless request.
    if (err.status === 415)
      return problemResponse('UNSUPPORTED_MEDIA_TYPE', 'Тело запроса должно быть application/json', requestId)
    if (err.status === 401) return problemResponse('SIGNATURE_INVALID', err.message, requestId)
    if (err.status === 404) return problemResponse('NOT_FOUND', err.message, requestId)
  }
  const log = c.get('log')
  if (isDatabaseUnavailable(err)) {
    log?.error({ err }, 'database unavailable')
    return problemResponse(
      'SERVICE_UNAVAILABLE',
      'База данных временно недоступна, повторите запрос позже',
      requestId,
      undefined,
      {
        'retry-after': '5',
      },
    )
  }
  log?.error({ err }, 'unhandled error')
  return problemResponse('INTERNAL', 'Внутренняя ошибка сервера', requestId)
}
