import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppDeps, AppEnv } from './context.js'
import { AppError } from './errors.js'

export const MAX_BODY_BYTES = 1024 * 1024

/** Deps and a per-request child logger that carries the request id on every line. */
export function requestContext(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = c.get('requestId')
    const log = deps.log.child({ request_id: requestId })
    c.set('deps', deps)
    c.set('log', log)
    const started = performance.now()
    try {
      await next()
    } finally {
      const status = c.res.status
      const line = {
        method: c.req.method,
        path: c.req.path,
        status,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      }
      if (status >= 500) log.error(line, 'request')
      else log.info(line, 'request')
    }
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])

/**
 * The one route whose body is not JSON: editors' media uploads (raw bytes, larger than 1 MiB). Its
 * router applies its own size limit and sniffs the bytes; every other body stays JSON and small.
 */
export const RAW_UPLOAD_PATHS: ReadonlySet<string> = new Set(['/v1/admin/media'])
const isRawUpload = (path: string, method: string) => method === 'POST' && RAW_UPLOAD_PATHS.has(path)

const bodyLimitMiddleware = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError('PAYLOAD_TOO_LARGE', `Максимальный размер тела запроса — ${MAX_BODY_BYTES} байт`)
  },
})

/**
 * Only methods whose body a route reads are limited: looking at the body of a GET makes the Node
 * adapter build the whole Request object, which costs more than the health check itself.
 */
export const limitBody: MiddlewareHandler<AppEnv> = (c, next) =>
  BODY_METHODS.has(c.req.method) && !isRawUpload(c.req.path, c.req.method)
    ? bodyLimitMiddleware(c, next)
    : next()

/**
 * A request that carries a body must say it is JSON: every body this API takes is JSON, and a body in
 * another type would otherwise skip validation.
 */
/** HTML forms posted by a browser (the web deletion page): the only bodies that are not JSON. */
export const FORM_PATHS = new Set(['/account-deletion'])
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i

export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const form = FORM_PATHS.has(c.req.path) && FORM_TYPE.test(c.req.header('content-type') ?? '')
  if (BODY_METHODS.has(c.req.method) && !form && !isRawUpload(c.req.path, c.req.method)) {
    const length = c.req.header('content-length')
    const hasBody = length !== undefined ? length !== '0' : c.req.raw.body !== null
    const type = c.req.header('content-type') ?? ''
    if (hasBody && !/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Тело запроса должно быть application/json, получено: ${type || 'без типа'}`,
      )
    }
  }
  await next()
}
