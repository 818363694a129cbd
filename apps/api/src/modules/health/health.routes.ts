import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'

export const HealthSchema = z
  .object({
    status: z.literal('ok'),
    db: z.literal('ok'),
    version: z.string(),
    uptime_s: z.number().openapi({ description: 'Seconds since this process started.' }),
  })
  .openapi('Health')

export const healthRoute = createRoute({
  method: 'get',
  path: '/v1/api/health',
  tags: ['health'],
  summary: 'Liveness and database reachability',
  responses: {
    200: {
      description: 'The service and its database answer.',
      content: { 'application/json': { schema: HealthSchema } },
    },
    ...errorResponses(503),
  },
})
