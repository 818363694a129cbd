import type { RouteHandler } from '@hono/zod-openapi'
import type { AppEnv } from '../../platform/http/context.js'
import { decodeIdCursor, encodeIdCursor } from '../../platform/http/id-cursor.js'
import type { listActionsRoute, meRoute } from './operators.routes.js'
import { listActions } from './operators.service.js'

export const meHandler: RouteHandler<typeof meRoute, AppEnv> = async (c) => {
  const op = c.var.operator
  return c.json({ name: op.name, named: op.named, four_eyes: c.var.deps.config.adminFourEyes }, 200)
}

export const listActionsHandler: RouteHandler<typeof listActionsRoute, AppEnv> = async (c) => {
  const q = c.req.valid('query')
  const rows = await listActions(c.var.deps.database.db, {
    operator: q.operator,
    before: q.cursor ? decodeIdCursor(q.cursor) : undefined,
    limit: q.limit,
  })
  const items = rows.slice(0, q.limit)
  const last = items[items.length - 1]
  return c.json(
    {
      items: items.map((r) => ({
        id: Number(r.id),
        at: new Date(r.at).toISOString(),
        operator: r.operator,
        method: r.method,
        path: r.path,
        status: r.status,
        detail: r.detail,
      })),
      next_cursor: rows.length > q.limit && last ? encodeIdCursor(Number(last.id)) : null,
    },
    200,
  )
}
