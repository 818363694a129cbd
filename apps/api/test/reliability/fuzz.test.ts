import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatMismatches, takeMismatches } from '../helpers/response-validation.js'
import { ADMIN_TOKEN, createTestApp, DEV_KEYS, type TestApp } from '../helpers/test-app.js'
import {
  bodySchema,
  type ContractOperation,
  contractOperations,
  edgeValues,
  fillPath,
  parameterSchemas,
} from './contract.js'
import { snapshotTables } from './db-snapshot.js'

/**
 * Property-based fuzzing of every operation in the contract: hostile parameters, bodies, media types
 * and credentials, then the contract's own examples and edge values. The service must never answer
 * 5xx, every answer must match the contract (checked by the suite's response validation, asserted here
 * inside the property so fast-check shrinks a mismatch), and no rejected request may change the
 * database.
 */

const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 600)

const hostileStrings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom(
    "' OR 1=1 --",
    "'; DROP TABLE ingestion_run; --",
    "moscow' UNION SELECT app_key FROM tenants --",
    '{"$ne":null}',
    '__proto__',
    'constructor',
    '../../etc/passwd',
    '%00',
    '\u0000',
    '\uD800',
    '\uFFFF',
    'NaN',
    '-1',
    '1e309',
    '99999999999999999999999999',
    '00000000-0000-4000-8000-000000000000',
    'moscow',
    'kazan',
    '',
    ' ',
    'a'.repeat(5000),
    'я'.repeat(3000),
  ),
  fc.integer().map(String),
  fc.double().map(String),
)

/** Raw path segments, some of them deliberately broken percent-encoding. */
const hostileSegment = fc.oneof(
  hostileStrings.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))),
  fc.constantFrom('%', '%ZZ', '%C0%AF', '%E0%A4%A', '%FF%FE', '..', '%2e%2e', '%2F', ';', '%00'),
)

/** Deeply nested JSON as text (building it as a value would overflow the test's own stack). */
function deep(depth: number, array: boolean): string {
  return array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
}

const jsonValue = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue(),
  fc.anything({ withNullPrototype: false }).map((v) => {
    try {
      return JSON.parse(JSON.stringify(v) ?? 'null') as unknown
    } catch {
      return null
    }
  }),
  fc.record(
    {
      city: fc.oneof(hostileStrings, fc.jsonValue()),
      boundary_ref: fc.oneof(hostileStrings, fc.integer(), fc.double()),
      date: fc.oneof(hostileStrings, fc.constantFrom('2030-02-30', '0000-00-00', '9999-99-99')),
      source: fc.oneof(
        fc.jsonValue(),
        fc.record({ kind: hostileStrings, url: hostileStrings }),
        fc.constantFrom(
          { kind: 'extract', url: 'file:///etc/passwd' },
          { kind: 'extract', url: 'ftp://127.0.0.1/x.osm.pbf' },
          { kind: 'extract', url: 'javascript:alert(1)' },
        ),
      ),
      run_id: fc.oneof(hostileStrings, fc.uuid(), fc.integer()),
      extra: fc.jsonValue(),
      __proto__: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
  // Depth only: the nested value is built when the request is, so a failure report stays printable.
  fc.integer({ min: 1, max: 100_000 }).map((depth) => ({ __deep: depth })),
)

type BodyKind = 'none' | 'json' | 'raw-bytes' | 'malformed-json' | 'huge'
const body = fc.oneof(
  fc.constant<{ kind: BodyKind; value?: unknown }>({ kind: 'none' }),
  { weight: 6, arbitrary: jsonValue.map((value) => ({ kind: 'json' as BodyKind, value })) },
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((value) => ({ kind: 'raw-bytes' as BodyKind, value })),
  fc
    .constantFrom('{', '{"city":', '[1,2', '{"city":"moscow"}}', 'null', '\uFEFF{}', '{"a":1e99999}', 'tru')
    .map((value) => ({ kind: 'malformed-json' as BodyKind, value })),
  fc.integer({ min: 1, max: 3 }).map((mb) => ({ kind: 'huge' as BodyKind, value: mb })),
)

/** Mostly a JSON media type, so most bodies get past the media-type gate into validation. */
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  fc.constantFrom(
    undefined,
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/problem+json',
    '',
    'application/json\u0000',
  ),
)

/** Credentials: mostly valid (so requests reach validation), else absent, wrong or another tenant's. */
const credentials = fc.oneof(
  { weight: 5, arbitrary: fc.constant('valid') },
  fc.constantFrom('none', 'wrong', 'other-tenant', 'empty'),
)

interface Plan {
  segments: string[]
  query: Array<[string, string]>
  body: { kind: BodyKind; value?: unknown }
  contentType: string | undefined
  credentials: string
  extraHeaders: Array<[string, string]>
}

function planFor(op: ContractOperation): fc.Arbitrary<Plan> {
  return fc.record({
    segments: fc.array(hostileSegment, { minLength: op.pathParams.length, maxLength: op.pathParams.length }),
    query: fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...op.queryParams, 'extra', 'limit', '__proto__'), fc.string()),
        hostileStrings,
      ),
      { maxLength: 6 },
    ),
    body,
    contentType,
    credentials,
    extraHeaders: fc.array(
      fc.tuple(
        fc.constantFrom('X-Request-Id', 'Accept', 'Idempotency-Key', 'X-Forwarded-For', 'Content-Encoding'),
        fc.string({ maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
      ),
      { maxLength: 3 },
    ),
  })
}

function requestFor(op: ContractOperation, plan: Plan): { url: string; init: RequestInit } {
  let i = 0
  const path = fillPath(op, () => plan.segments[i++] ?? 'x')
  const qs = plan.query
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '?'))}`)
    .join('&')
  const headers = new Headers()
  for (const [k, v] of plan.extraHeaders) headers.set(k, v)
  if (plan.contentType !== undefined && !plan.contentType.includes('\u0000'))
    headers.set('content-type', plan.contentType)
  const scheme = op.security[0]
  if (scheme === 'AdminToken' || scheme === undefined) {
    if (plan.credentials === 'valid') headers.set('X-Admin-Token', ADMIN_TOKEN)
    if (plan.credentials === 'wrong') headers.set('X-Admin-Token', `${ADMIN_TOKEN}-nope`)
    if (plan.credentials === 'empty') headers.set('X-Admin-Token', '')
  }
  if (scheme === 'AppKey' || scheme === undefined) {
    if (plan.credentials === 'valid') headers.set('X-App-Key', DEV_KEYS.gorod)
    if (plan.credentials === 'other-tenant') headers.set('X-App-Key', DEV_KEYS.progulki)
    if (plan.credentials === 'wrong') headers.set('X-App-Key', 'not-a-known-key')
  }
  if (scheme === 'QStashSignature') {
    // Signed routes are fuzzed unsigned or with garbage signatures: every answer must be 401.
    if (plan.credentials === 'wrong') headers.set('Upstash-Signature', 'eyJhbGciOiJIUzI1NiJ9.e30.x')
    if (plan.credentials === 'valid') headers.set('Authorization', 'Bearer not-the-cron-secret-000000')
  }
  let reqBody: RequestInit['body'] | undefined
  const method = op.method
  if (method !== 'GET' && method !== 'HEAD') {
    const b = plan.body
    if (b.kind === 'json') {
      const depth = (b.value as { __deep?: number } | null)?.__deep
      reqBody = typeof depth === 'number' ? deep(depth, depth % 2 === 0) : (JSON.stringify(b.value) ?? 'null')
    }
    if (b.kind === 'raw-bytes') reqBody = b.value as Uint8Array<ArrayBuffer>
    if (b.kind === 'malformed-json') reqBody = b.value as string
    if (b.kind === 'huge') reqBody = `{"city":"${'a'.repeat((b.value as number) * 1024 * 1024)}"}`
  }
  return {
    url: `http://localhost${path}${qs ? `?${qs}` : ''}`,
    init: { method, headers, ...(reqBody !== undefined ? { body: reqBody } : {}) },
  }
}

/**
 * A write the service accepted with valid credentials (an admin enqueue, or an anonymous account: its
 * body may be empty) may change data; the check below counts only answers below 400.
 */
function couldBeValid(op: ContractOperation, plan: Plan): boolean {
  return op.method !== 'GET' && plan.credentials === 'valid'
}

describe('fuzzing every contract operation (hostile input)', () => {
  let t: TestApp
  const operations = contractOperations()
  const seen = { requests: 0, byStatus: {} as Record<number, number> }

  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: 'error' })
  })
  afterAll(async () => {
    // The figures go to docs/reliability.md.
    console.info(`fuzz: ${seen.requests} requests over ${operations.length} operations`, seen.byStatus)
    await t.close()
  })

  it('reads the operations from the contract', () => {
    expect(operations.length).toBeGreaterThanOrEqual(9)
    expect(operations.some((o) => o.security.includes('AdminToken'))).toBe(true)
  })

  it.each(contractOperations().map((o) => [`${o.method} ${o.path}`, o] as const))(
    '%s: never 5xx, every 4xx a Problem, rejected requests change nothing',
    async (_name, op) => {
      const before = await snapshotTables(t.database.db)
      let accepted = 0
      await fc.assert(
        fc.asyncProperty(planFor(op), async (plan) => {
          const { url, init } = requestFor(op, plan)
          const res = await t.app.request(url, init)
          seen.requests += 1
          seen.byStatus[res.status] = (seen.byStatus[res.status] ?? 0) + 1
          const text = await res.text()
          expect(res.status, `${init.method} ${url} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500)
          // The service-wide size and media-type checks come before any credential check (docs/api.md).
          if (op.security[0] === 'QStashSignature') expect([401, 413, 415]).toContain(res.status)
          const mismatches = takeMismatches()
          expect(mismatches, formatMismatches(mismatches)).toEqual([])
          if (
            res.status >= 400 &&
            res.headers.get('content-type')?.startsWith('text/html') &&
            op.responseTypes[String(res.status)]?.includes('text/html')
          ) {
            // A page for browsers (the web deletion page) answers its declared errors as HTML.
            expect(res.headers.get('content-type')).toMatch(/^text\/html/)
          } else if (res.status >= 400) {
            expect(res.headers.get('content-type')).toBe('application/problem+json')
            const problem = JSON.parse(text) as { status: number }
            expect(problem.status).toBe(res.status)
          } else if (couldBeValid(op, plan)) {
            accepted += 1
          }
        }),
        { numRuns: RUNS_PER_OPERATION, endOnFailure: true },
      )
      // Only requests the service accepted (2xx on a write with valid credentials) may change data.
      if (accepted === 0) expect(await snapshotTables(t.database.db)).toEqual(before)
    },
  )

  it.each(contractOperations().map((o) => [`${o.method} ${o.path}`, o] as const))(
    "%s: the contract's examples and edge values get answers that match the contract",
    async (_name, op) => {
      const requests = edgeRequests(op)
      for (const { url, init } of requests) {
        const res = await t.app.request(url, init)
        seen.requests += 1
        const text = await res.text()
        expect(res.status, `${init.method} ${url} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500)
        const mismatches = takeMismatches()
        expect(mismatches, formatMismatches(mismatches)).toEqual([])
      }
      expect(requests.length).toBeGreaterThan(0)
    },
  )
})

/**
 * One request per edge value of every parameter and body property, the others at their first value
 * (the example where the contract gives one), with valid credentials so they reach the handler.
 */
function edgeRequests(op: ContractOperation): Array<{ url: string; init: RequestInit }> {
  const schemas = parameterSchemas(op)
  const firstOf = (name: string) => edgeValues(schemas[name])[0]
  // Path parameters always need a value; an optional query parameter only where the contract names one.
  const base: Record<string, unknown> = Object.fromEntries([
    ...op.pathParams.map((n) => [n, firstOf(n) ?? 'x']),
    ...op.queryParams
      .filter((n) => 'example' in (schemas[n] ?? {}) || 'default' in (schemas[n] ?? {}))
      .map((n) => [n, firstOf(n)]),
  ])
  const variants: Array<{ params: Record<string, unknown>; body?: unknown }> = [{ params: base }]
  for (const name of [...op.pathParams, ...op.queryParams]) {
    for (const value of edgeValues(schemas[name])) variants.push({ params: { ...base, [name]: value } })
  }
  const body = bodySchema(op)
  if (op.hasBody && body) for (const value of edgeValues(body)) variants.push({ params: base, body: value })
  return variants.map(({ params, body: b }) => {
    const text = (v: unknown) => encodeURIComponent(v === null ? 'null' : String(v))
    const path = fillPath(op, (name) => text(params[name]) || 'x')
    const qs = op.queryParams
      .filter((n) => params[n] !== undefined)
      .map((n) => `${encodeURIComponent(n)}=${text(params[n])}`)
      .join('&')
    const headers = new Headers({ 'X-Admin-Token': ADMIN_TOKEN, 'X-App-Key': DEV_KEYS.gorod })
    const withBody = op.method !== 'GET' && op.method !== 'DELETE' && b !== undefined
    if (withBody) headers.set('content-type', 'application/json')
    return {
      url: `http://localhost${path}${qs ? `?${qs}` : ''}`,
      init: { method: op.method, headers, ...(withBody ? { body: JSON.stringify(b) } : {}) },
    }
  })
}
