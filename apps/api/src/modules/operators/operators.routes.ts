import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'

const admin = [{ AdminToken: [] }]

export const OperatorSchema = z
  .object({
    name: z
      .string()
      .openapi({ example: 'anna', description: 'The name every action of this token is recorded under' }),
    named: z.boolean().openapi({
      description:
        'true: a named operator of ADMIN_TOKENS; false: the shared ADMIN_API_TOKEN (actions recorded under `by`, default `admin`)',
    }),
    four_eyes: z.boolean().openapi({
      description: 'Whether the last editor of a tour draft is kept from publishing it (ADMIN_FOUR_EYES)',
    }),
  })
  .openapi('Operator')

export const meRoute = createRoute({
  method: 'get',
  path: '/v1/admin/me',
  tags: ['operators'],
  summary: 'Who this operator token belongs to (the console signs in with it)',
  security: admin,
  responses: {
    200: { description: 'The operator.', content: { 'application/json': { schema: OperatorSchema } } },
    ...errorResponses(401, 403),
  },
})

export const AdminActionSchema = z
  .object({
    id: z.number().int(),
    at: z.string().datetime(),
    operator: z.string(),
    method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']),
    path: z.string().openapi({ example: '/v1/admin/staging/42/reject' }),
    status: z.number().int(),
    detail: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'The validated request body and the job or record the answer named' }),
  })
  .openapi('AdminAction')

export const listActionsRoute = createRoute({
  method: 'get',
  path: '/v1/admin/actions',
  tags: ['operators'],
  summary: 'What operators changed through the admin surface, newest first, cursor-paginated',
  security: admin,
  request: {
    query: z.object({
      operator: z
        .string()
        // Postgres text cannot hold NUL; no name holds a control character.
        .regex(/^[^\p{Cc}]{1,200}$/u, { message: 'an operator name, without control characters' })
        .optional(),
      cursor: z.string().max(200).optional().openapi({ description: 'next_cursor of the previous page' }),
      limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ type: 'integer' }),
    }),
  },
  responses: {
    200: {
      description: 'A page of actions.',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(AdminActionSchema), next_cursor: z.string().nullable() })
            .openapi('AdminActionPage'),
        },
      },
    },
    ...errorResponses(401, 403),
  },
})
