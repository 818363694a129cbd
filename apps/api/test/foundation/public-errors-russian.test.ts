import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json } from '../helpers/http.js'
import { createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'

/**
 * App users read `detail` and `errors[].message` of public routes: they are Russian. The operations
 * are derived from the OpenAPI document (AppKey security), every parameter is sent malformed (and
 * every required one omitted), and every 400 that comes back is checked.
 */
const CYRILLIC = /[А-Яа-яЁё]/
const ENGLISH = /\b(invalid|expected|must|required|received|too (small|big|long|short))\b/i

/** A valid value per parameter name, so that only the parameter under test is wrong. */
const VALID: Record<string, string> = { slug: 'moscow', id: '1', lat: '55.75', lon: '37.61', q: 'музей' }

const BAD_VALUES = ['abc', '-5', '1.5', '1e400', '!!!', 'x'.repeat(300), '', '0', '99999999999999999999']

interface Param {
  name: string
  in: 'path' | 'query' | 'header'
  required?: boolean
}

function request(path: string, params: Param[], values: Record<string, string | undefined>) {
  let url = path
  const query = new URLSearchParams()
  for (const p of params) {
    const v = values[p.name]
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(v ?? VALID[p.name] ?? '1'))
    else if (p.in === 'query' && v !== undefined) query.set(p.name, v)
  }
  const qs = query.toString()
  return qs ? `${url}?${qs}` : url
}

describe('public routes answer 400s in Russian', () => {
  let t: TestApp
  let operations: Array<{ method: string; path: string; params: Param[] }>
  beforeAll(async () => {
    t = await createTestApp()
    const doc = await json(await t.app.request('/v1/openapi.json'))
    operations = []
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        const security = (op?.security ?? []) as Array<Record<string, unknown>>
        if (!security.some((s) => 'AppKey' in s) || path.startsWith('/v1/admin')) continue
        operations.push({ method: method.toUpperCase(), path, params: (op.parameters ?? []) as Param[] })
      }
    }
  })
  afterAll(() => t.close())

  it('finds the public operations in the document', () => {
    const names = operations.map((o) => `${o.method} ${o.path}`)
    expect(names).toEqual(
      expect.arrayContaining(['GET /v1/nearby', 'GET /v1/search', 'GET /v1/cities/{slug}/pois']),
    )
  })

  it('every 400 of every public operation: detail and each errors[].message are Russian', async () => {
    const checked: Record<string, number> = {}
    for (const op of operations) {
      const name = `${op.method} ${op.path}`
      checked[name] = 0
      const base = Object.fromEntries(
        op.params.filter((p) => p.required && p.in !== 'path').map((p) => [p.name, VALID[p.name] ?? '1']),
      )
      const cases: Array<Record<string, string | undefined>> = []
      for (const p of op.params) {
        if (p.in === 'header') continue
        for (const bad of BAD_VALUES) cases.push({ ...base, [p.name]: bad })
        if (p.required) cases.push({ ...base, [p.name]: undefined })
      }
      for (const values of cases) {
        const url = request(op.path, op.params, values)
        const res = await t.app.request(url, { method: op.method, headers: { 'x-app-key': DEV_KEYS.gorod } })
        expect(res.status, url).toBeLessThan(500)
        if (res.status !== 400) continue
        checked[name]! += 1
        const body = await json(res)
        expect(body.detail, url).toMatch(CYRILLIC)
        expect(body.detail, url).not.toMatch(ENGLISH)
        for (const e of (body.errors ?? []) as Array<{ path: string; message: string }>) {
          expect(e.message, `${url} ${e.path}`).toMatch(CYRILLIC)
          expect(e.message, `${url} ${e.path}`).not.toMatch(ENGLISH)
        }
      }
    }
    // Every operation that takes query or path parameters was made to answer 400 at least once.
    for (const op of operations) {
      if (op.params.some((p) => p.in === 'query'))
        expect(checked[`${op.method} ${op.path}`], op.path).toBeGreaterThan(0)
    }
  })
})
