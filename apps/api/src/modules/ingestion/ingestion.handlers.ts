import type { RouteHandler } from '@hono/zod-openapi'
import type { AppEnv } from '../../platform/http/context.js'
import { enqueueRun } from '../jobs/index.js'
import type { enqueueHelpersRoute } from './ingestion.routes.js'

export function enqueueHandler(type: 'osm' | 'helpers'): RouteHandler<typeof enqueueHelpersRoute, AppEnv> {
  return async (c) => {
    const body = c.req.valid('json')
    const { deps } = c.var
    const { run, deduplicated } = await enqueueRun(
      { ...deps, jobs: deps.jobs ?? null },
      {
        type,
        city: body.city,
        ...(body.boundary_ref ? { boundaryRef: body.boundary_ref } : {}),
        ...(body.date ? { date: body.date } : {}),
        source: body.source ?? { kind: 'overpass' },
        trigger: 'admin',
      },
    )
    c.header('Location', `/v1/jobs/${run.id}`)
    if (deduplicated) c.header('Idempotent-Replayed', 'true')
    return c.json(
      {
        job_id: run.id,
        status: run.status,
        type: run.type as 'osm' | 'helpers',
        city: run.city_slug,
        idempotency_key: run.idempotency_key,
        deduplicated,
      },
      202,
    )
  }
}
