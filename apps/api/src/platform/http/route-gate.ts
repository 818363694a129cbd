import type { MiddlewareHandler } from 'hono'
import { TrieRouter } from 'hono/router/trie-router'
import type { AppEnv } from './context.js'
import { AppError } from './errors.js'

interface RouteEntry {
  method: string
  path: string
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/**
 * Answers a request no route serves before any other check: an unknown path is `404 NOT_FOUND` and a
 * known path with another method `405 METHOD_NOT_ALLOWED` (with `Allow`). Without it the body gates
 * and the credential checks mounted on path prefixes (`/v1/admin/*`) would answer 413/415/401 for
 * routes that do not exist, which the contract cannot describe.
 *
 * `routes` is read on the first request, when every router has been mounted.
 */
export function rejectUnknownRoutes(routes: () => readonly RouteEntry[]): MiddlewareHandler<AppEnv> {
  let router: TrieRouter<true> | null = null
  const serves = (method: string, path: string) => (router?.match(method, path)[0].length ?? 0) > 0
  return async (c, next) => {
    if (!router) {
      router = new TrieRouter<true>()
      // Middleware is registered as ALL; only real handlers say a route exists.
      for (const r of routes()) if (r.method !== 'ALL') router.add(r.method, r.path, true)
    }
    const path = c.req.path
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method
    if (serves(method, path)) return next()
    const allowed = METHODS.filter((m) => serves(m, path))
    if (allowed.length) {
      throw new AppError(
        'METHOD_NOT_ALLOWED',
        `Маршрут ${path} не поддерживает метод ${c.req.method}; допустимы: ${allowed.join(', ')}`,
        undefined,
        { allow: allowed.includes('GET') ? [...allowed, 'HEAD'].join(', ') : allowed.join(', ') },
      )
    }
    throw new AppError('NOT_FOUND', `Маршрут ${c.req.method} ${path} не существует`)
  }
}
