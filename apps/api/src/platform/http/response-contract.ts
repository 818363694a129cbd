import { gunzipSync } from 'node:zlib'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './context.js'

/**
 * Checks an answer of the service against the OpenAPI 3.1 document it publishes: the status is
 * declared for the operation, the content type is declared, the body validates against the declared
 * schema (Ajv, JSON Schema 2020-12, the dialect of OpenAPI 3.1) and the declared response headers are
 * present. Used by the test suite for every answer and by the opt-in development middleware.
 */

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is untyped JSON here.
type Json = any

export interface ContractAnswer {
  status: number
  headers: Headers
  /** The body as sent; gzip is undone here (a fetch over HTTP has already undone it). */
  body: Uint8Array
}

export interface ContractMismatch {
  /** `GET /v1/cities/{slug}`, or the request line when no operation matches. */
  operation: string
  status: number
  message: string
}

export interface ResponseContract {
  /** The operation (`METHOD /template`) a request goes to, or null when the contract has none. */
  operationOf(method: string, path: string): string | null
  /** null when the answer matches the contract. */
  check(method: string, path: string, answer: ContractAnswer): ContractMismatch | null
}

/** Paths the service answers that are deliberately outside the contract (the contract itself, its page). */
const OUTSIDE_CONTRACT = new Set(['/v1/openapi.json', '/docs'])

const CONTRACT_ID = 'urn:gorod:contract'
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

interface Operation {
  name: string
  method: string
  pattern: RegExp
  literalLength: number
  responses: Record<string, Json>
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

export function createResponseContract(document: Json): ResponseContract {
  // strict: false because OpenAPI schemas carry keywords JSON Schema does not define (`example`);
  // it only concerns how schemas are written, not how strictly answers are checked.
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true })
  addFormats(ajv)
  ajv.addSchema({ $id: CONTRACT_ID, components: document.components ?? {} })
  const compiled = new Map<string, ValidateFunction>()
  const operations = operationsOf(document)

  const find = (method: string, path: string): Operation | null => {
    const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()
    return operations.find((op) => op.method === m && op.pattern.test(path)) ?? null
  }

  const validatorFor = (key: string, schema: Json): ValidateFunction => {
    let fn = compiled.get(key)
    if (!fn) {
      fn = ajv.compile(rebase(schema))
      compiled.set(key, fn)
    }
    return fn
  }

  return {
    operationOf: (method, path) => find(method, path)?.name ?? null,
    check(method, path, answer) {
      const op = find(method, path)
      if (!op) return checkOutside(method, path, answer, (schema) => validatorFor('Problem', schema))
      const fail = (message: string): ContractMismatch => ({
        operation: op.name,
        status: answer.status,
        message,
      })
      const declared = op.responses[String(answer.status)] ?? op.responses[`${String(answer.status)[0]}XX`]
      if (!declared) return fail(`status ${answer.status} is not declared`)
      for (const [name, header] of Object.entries<Json>(declared.headers ?? {})) {
        if (header?.required && !answer.headers.has(name)) return fail(`header ${name} is missing`)
      }
      const content: Record<string, Json> = declared.content ?? {}
      const body = method.toUpperCase() === 'HEAD' ? new Uint8Array() : answer.body
      if (Object.keys(content).length === 0) {
        return body.byteLength === 0 ? null : fail(`a body (${body.byteLength} bytes) where none is declared`)
      }
      const type = mediaType(answer.headers.get('content-type'))
      const declaredType = Object.keys(content).find((t) => t.toLowerCase() === type)
      if (!declaredType) {
        return fail(`content type ${type || '(none)'} is not declared (${Object.keys(content).join(', ')})`)
      }
      if (method.toUpperCase() === 'HEAD' || !isJson(declaredType)) return null
      const parsed = parseJson(body)
      if (!parsed.ok) return fail(`the body is not JSON: ${parsed.error}`)
      const schema = content[declaredType]?.schema
      if (!schema) return null
      const validate = validatorFor(`${op.name} ${answer.status} ${declaredType}`, schema)
      return validate(parsed.value) ? null : fail(describe(validate.errors))
    },
  }
}

/** Unknown routes must be a 404 (or 405 for a known path) problem; the contract's own paths are free. */
function checkOutside(
  method: string,
  path: string,
  answer: ContractAnswer,
  problem: (schema: Json) => ValidateFunction,
): ContractMismatch | null {
  if (OUTSIDE_CONTRACT.has(path)) return null
  const operation = `${method.toUpperCase()} ${path} (no operation in the contract)`
  const fail = (message: string): ContractMismatch => ({ operation, status: answer.status, message })
  if (answer.status !== 404 && answer.status !== 405) return fail(`only 404 or 405 may answer it`)
  if (mediaType(answer.headers.get('content-type')) !== 'application/problem+json')
    return fail('not application/problem+json')
  if (method.toUpperCase() === 'HEAD') return null
  const parsed = parseJson(answer.body)
  if (!parsed.ok) return fail(`the body is not JSON: ${parsed.error}`)
  const validate = problem({ $ref: '#/components/schemas/Problem' })
  return validate(parsed.value) ? null : fail(describe(validate.errors))
}

function operationsOf(document: Json): Operation[] {
  const ops: Operation[] = []
  for (const [template, item] of Object.entries<Json>(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method]
      if (!op) continue
      const source = template
        .split(/(\{[^}]+\})/)
        .map((part) => (/^\{[^}]+\}$/.test(part) ? '([^/]+)' : escapeRegExp(part)))
        .join('')
      ops.push({
        name: `${method.toUpperCase()} ${template}`,
        method,
        pattern: new RegExp(`^${source}$`),
        literalLength: template.replace(/\{[^}]+\}/g, '').length,
        responses: op.responses ?? {},
      })
    }
  }
  // The most literal template wins (`/pois.geojson` before a parameter that could swallow it).
  return ops.sort((a, b) => b.literalLength - a.literalLength)
}

/** `#/components/...` inside an operation's schema points into the components added under CONTRACT_ID. */
function rebase(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(rebase)
  if (schema && typeof schema === 'object') {
    const out: Record<string, Json> = {}
    for (const [k, v] of Object.entries<Json>(schema)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${CONTRACT_ID}${v}` : rebase(v)
    }
    return out
  }
  return schema
}

function describe(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0]
  if (!e) return 'the body does not validate'
  const params = Object.keys(e.params ?? {}).length ? ` ${JSON.stringify(e.params)}` : ''
  return `body${e.instancePath || ''} ${e.message ?? 'is invalid'}${params} (schema ${e.schemaPath})`
}

function mediaType(header: string | null): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase()
}

function isJson(type: string): boolean {
  return /^application\/([a-z0-9.+-]*\+)?json$/i.test(type)
}

function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes
    return { ok: true, value: JSON.parse(new TextDecoder().decode(raw)) }
  } catch (err) {
    return { ok: false, error: (err as Error).message }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** What the contract check saw: every answer, and the mismatch when there is one. */
export type ContractObserver = (seen: {
  method: string
  path: string
  requestId: string
  mismatch: ContractMismatch | null
}) => void

/**
 * Middleware that checks every answer against the contract the app publishes. The document is built
 * on the first request (every route is mounted by then, test-only routes included) by `document()`.
 * The answer itself is never changed: the observer decides what a mismatch means (a log line in
 * development, a failed test in the suite).
 */
export function contractCheck(document: () => Json, observe: ContractObserver): MiddlewareHandler<AppEnv> {
  let contract: ResponseContract | null = null
  return async (c, next) => {
    await next()
    contract ??= createResponseContract(document())
    const res = c.res
    const body = res.body ? new Uint8Array(await res.clone().arrayBuffer()) : new Uint8Array()
    const mismatch = contract.check(c.req.method, c.req.path, {
      status: res.status,
      headers: res.headers,
      body: gunzipIfEncoded(res.headers, body),
    })
    observe({ method: c.req.method, path: c.req.path, requestId: c.get('requestId') ?? 'unknown', mismatch })
  }
}

/** Undoes `Content-Encoding: gzip` (map tiles are stored and sent gzip-encoded). */
function gunzipIfEncoded(headers: Headers, body: Uint8Array): Uint8Array {
  if (headers.get('content-encoding')?.toLowerCase() !== 'gzip' || body.byteLength === 0) return body
  try {
    return new Uint8Array(gunzipSync(body))
  } catch {
    return body
  }
}
