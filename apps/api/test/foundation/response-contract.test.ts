import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRoute, z } from '@hono/zod-openapi'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { configFrom } from '../../src/config.js'
import { createResponseContract } from '../../src/platform/http/response-contract.js'
import { REPO_ROOT } from '../helpers/process.js'
import { takeMismatches } from '../helpers/response-validation.js'
import { createTestApp, type TestApp } from '../helpers/test-app.js'

const contract = createResponseContract(
  parse(readFileSync(join(REPO_ROOT, 'packages/contract/openapi.yaml'), 'utf8')),
)

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers({ 'content-type': 'application/json', ...headers }),
  body: new TextEncoder().encode(JSON.stringify(body)),
})

/** A route registered for one test only, whose answer departs from its own schema. */
function addMismatchingRoute(t: TestApp) {
  t.app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/test-only/mismatch',
      responses: {
        200: {
          description: 'A count',
          content: { 'application/json': { schema: z.object({ count: z.number().int() }) } },
        },
      },
    }),
    // biome-ignore lint/suspicious/noExplicitAny: the deliberate departure from the schema.
    (c) => c.json({ count: 'three' } as any, 200),
  )
}

describe('answers are checked against the contract', () => {
  let t: TestApp | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  it('the suite catches an answer that departs from its schema, naming the operation and status', async () => {
    t = await createTestApp()
    addMismatchingRoute(t)
    const res = await t.app.request('/v1/test-only/mismatch')
    expect(res.status).toBe(200)
    const seen = takeMismatches()
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ operation: 'GET /v1/test-only/mismatch', status: 200 })
    expect(seen[0]!.message).toMatch(/\/count must be integer/)
  })

  it('VALIDATE_RESPONSES=1 logs a mismatch with the request id and leaves the answer alone', async () => {
    t = await createTestApp({ VALIDATE_RESPONSES: '1' }, { contractObserver: undefined })
    addMismatchingRoute(t)
    const res = await t.app.request('/v1/test-only/mismatch', { headers: { 'X-Request-Id': 'mismatch-1' } })
    expect(await res.json()).toEqual({ count: 'three' })
    const line = t.logs.records.find((r) => r.msg === 'answer departs from the contract')
    expect(line).toMatchObject({
      level: 'warn',
      request_id: 'mismatch-1',
      operation: 'GET /v1/test-only/mismatch',
      status: 200,
    })
    // A matching answer writes no such line.
    await t.app.request('/v1/api/health')
    expect(t.logs.records.filter((r) => r.msg === 'answer departs from the contract')).toHaveLength(1)
  })

  it('is refused in production', () => {
    expect(() => configFrom({ VALIDATE_RESPONSES: '1', NODE_ENV: 'production' })).toThrow(
      /VALIDATE_RESPONSES/,
    )
  })

  it('an undeclared status, an undeclared content type, a wrong body and a missing header all fail', () => {
    const health = { status: 'ok', db: 'ok', version: '1', uptime_s: 1 }
    expect(contract.check('GET', '/v1/api/health', answer(418, health))?.message).toMatch(
      /418 is not declared/,
    )
    expect(
      contract.check('GET', '/v1/api/health', {
        ...answer(200, health),
        headers: new Headers({ 'content-type': 'text/plain' }),
      })?.message,
    ).toMatch(/content type text\/plain is not declared/)
    expect(contract.check('GET', '/v1/cities', answer(200, { items: 'none' }))).toMatchObject({
      operation: 'GET /v1/cities',
      status: 200,
    })
    expect(contract.check('GET', '/v1/nowhere', answer(200, {}))?.message).toMatch(/only 404 or 405/)
  })

  it('the restore answer of a staged POI is in the contract: review.state is rejected or restored', () => {
    const staged = (state: string) =>
      contract.check(
        'POST',
        '/v1/admin/staging/1/restore',
        answer(200, {
          id: 1,
          city: 'moscow',
          osm_type: 'node',
          osm_id: 1,
          category: 'museum',
          name_ru: 'Музей',
          lat: 55.7,
          lon: 37.6,
          change_state: 'unchanged',
          source_url: 'https://www.openstreetmap.org/node/1',
          gates_passed: true,
          gate_results: null,
          gates_evaluated_at: null,
          review: { state, by: 'editor', reason: 'ошибка', at: '2026-12-07T00:00:00.000Z' },
          published_poi: null,
        }),
      )
    expect(staged('restored')).toBeNull()
    expect(staged('rejected')).toBeNull()
    expect(staged('forgotten')?.message).toMatch(/review\/state/)
  })
})
