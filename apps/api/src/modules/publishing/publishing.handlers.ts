import type { RouteHandler } from '@hono/zod-openapi'
import { actingOperator } from '../../platform/http/admin-auth.js'
import type { AppEnv } from '../../platform/http/context.js'
import { decodeIdCursor, encodeIdCursor } from '../../platform/http/id-cursor.js'
import type { enqueuePublishRoute, listStagingRoute, rejectRoute, restoreRoute } from './publishing.routes.js'
import { enqueuePublish, listStaging, rejectStaged, restoreStaged, stagedView } from './publishing.service.js'

export const enqueuePublishHandler: RouteHandler<typeof enqueuePublishRoute, AppEnv> = async (c) => {
  const { city } = c.req.valid('param')
  const body = (c.req.valid('json') as { date?: string } | undefined) ?? {}
  const { deps } = c.var
  const { run, deduplicated } = await enqueuePublish(
    { ...deps, jobs: deps.jobs ?? null },
    { city, ...(body.date ? { date: body.date } : {}), trigger: 'admin' },
  )
  c.header('Location', `/v1/jobs/${run.id}`)
  if (deduplicated) c.header('Idempotent-Replayed', 'true')
  return c.json(
    {
      job_id: run.id,
      status: run.status,
      type: 'publish' as const,
      city: run.city_slug,
      idempotency_key: run.idempotency_key,
      deduplicated,
    },
    202,
  )
}

export const listStagingHandler: RouteHandler<typeof listStagingRoute, AppEnv> = async (c) => {
  const q = c.req.valid('query')
  const rows = await listStaging(c.var.deps.database.db, {
    city: q.city,
    ...(q.gate ? { gate: q.gate } : {}),
    ...(q.passed !== undefined ? { passed: q.passed } : {}),
    ...(q.cursor ? { after: decodeIdCursor(q.cursor) } : {}),
    limit: q.limit,
  })
  const page = rows.slice(0, q.limit)
  const last = page[page.length - 1]
  const next = rows.length > q.limit && last ? encodeIdCursor(last.id) : null
  return c.json({ items: page.map(stagedView), next_cursor: next }, 200)
}

export const rejectHandler: RouteHandler<typeof rejectRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const { reason, by } = c.req.valid('json')
  const row = await rejectStaged(c.var.deps.database.db, id, { reason, by: actingOperator(c, by) })
  return c.json(stagedView(row), 200)
}

export const restoreHandler: RouteHandler<typeof restoreRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param')
  const { reason, by } = c.req.valid('json')
  const row = await restoreStaged(c.var.deps.database.db, id, { reason, by: actingOperator(c, by) })
  return c.json(stagedView(row), 200)
}
