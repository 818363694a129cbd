import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '../../platform/http/problem.js'

export const CitySchema = z
  .object({
    slug: z.string().openapi({ example: 'moscow' }),
    name_ru: z.string().openapi({ example: 'Москва' }),
    osm_relation_id: z.number().int().openapi({ example: 102269 }),
    bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).openapi({
      description: '[min_lon, min_lat, max_lon, max_lat]',
      example: [36.803, 55.1421, 37.9674, 56.0212],
    }),
    center: z.object({ lat: z.number(), lon: z.number() }),
    timezone: z.string().openapi({ example: 'Europe/Moscow' }),
  })
  .openapi('City')

export const listCitiesRoute = createRoute({
  method: 'get',
  path: '/v1/cities',
  tags: ['cities'],
  summary: 'Cities the calling app offers',
  security: [{ AppKey: [] }],
  responses: {
    200: {
      description: 'Active cities of the tenant, by Russian name.',
      content: {
        'application/json': { schema: z.object({ items: z.array(CitySchema) }).openapi('CityList') },
      },
    },
    ...errorResponses(401),
  },
})
