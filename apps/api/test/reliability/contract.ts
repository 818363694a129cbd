import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT } from '../helpers/process.js'

/** One operation of the checked-in contract, as the reliability suite needs it. */
export interface ContractOperation {
  method: string
  /** The templated path, e.g. `/v1/jobs/{job_id}`. */
  path: string
  /** Security schemes any of which the operation accepts (`AppKey`, `AdminToken`, `QStashSignature`, ...). */
  security: string[]
  /** Every security alternative includes `Bearer`: the operation answers 401 without a token. */
  bearerRequired: boolean
  pathParams: string[]
  queryParams: string[]
  hasBody: boolean
  /** Media types of each declared response status (HTML pages declare `text/html`). */
  responseTypes: Record<string, string[]>
}

type Json = any

export const CONTRACT: Json = parse(readFileSync(join(REPO_ROOT, 'packages/contract/openapi.yaml'), 'utf8'))

/** Every operation in `packages/contract/openapi.yaml`: a new route is covered without touching the tests. */
export function contractOperations(): ContractOperation[] {
  const ops: ContractOperation[] = []
  for (const [path, item] of Object.entries<Json>(CONTRACT.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method]
      if (!op) continue
      const params: Json[] = [...(item.parameters ?? []), ...(op.parameters ?? [])]
      ops.push({
        method: method.toUpperCase(),
        path,
        security: (op.security ?? CONTRACT.security ?? []).flatMap((s: Json) => Object.keys(s)),
        // Every alternative needs a Bearer token (an optional token is an alternative without one).
        bearerRequired:
          ((op.security ?? CONTRACT.security ?? []) as Json[]).every((s: Json) => 'Bearer' in s) &&
          ((op.security ?? CONTRACT.security ?? []) as Json[]).length > 0,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        hasBody: Boolean(op.requestBody),
        responseTypes: Object.fromEntries(
          Object.entries<Json>(op.responses ?? {}).map(([status, r]) => [
            status,
            Object.keys(r.content ?? {}),
          ]),
        ),
      })
    }
  }
  return ops
}

/** The path with each `{param}` replaced by `value(param)` (already encoded by the caller). */
export function fillPath(op: ContractOperation, value: (name: string) => string): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => value(name))
}

export function resolve(schema: Json): Json {
  if (schema?.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '')
    return resolve(CONTRACT.components.schemas[name])
  }
  return schema
}

/** A parameter's or body's schema from the contract (refs resolved one level). */
export function parameterSchemas(op: ContractOperation): Record<string, Json> {
  const item = CONTRACT.paths[op.path]
  const raw = item[op.method.toLowerCase()]
  const params: Json[] = [...(item.parameters ?? []), ...(raw.parameters ?? [])]
  return Object.fromEntries(params.map((p) => [p.name, resolve(p.schema)]))
}

export function bodySchema(op: ContractOperation): Json | null {
  const raw = CONTRACT.paths[op.path][op.method.toLowerCase()]
  return resolve(raw.requestBody?.content?.['application/json']?.schema) ?? null
}

/**
 * The contract's own examples and edge values of a schema: examples, defaults, enum members, the
 * bounds and one step past them, the shortest and longest strings, an empty array, and `null` where
 * it is nullable. Values the contract names are where a service most often breaks.
 */
export function edgeValues(schemaOrRef: Json): unknown[] {
  const schema = resolve(schemaOrRef)
  if (!schema || typeof schema !== 'object') return []
  const out: unknown[] = []
  const push = (...v: unknown[]) => out.push(...v)
  if ('example' in schema) push(schema.example)
  if (Array.isArray(schema.examples)) push(...schema.examples)
  if ('default' in schema) push(schema.default)
  if (Array.isArray(schema.enum)) push(...schema.enum)
  if ('const' in schema) push(schema.const)
  for (const alt of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) push(...edgeValues(alt))
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []
  if (types.includes('null') || schema.nullable) push(null)
  if (types.includes('integer') || types.includes('number')) {
    const step = types.includes('integer') ? 1 : 0.000001
    for (const bound of [schema.minimum, schema.exclusiveMinimum])
      if (typeof bound === 'number') push(bound, bound - step)
    for (const bound of [schema.maximum, schema.exclusiveMaximum])
      if (typeof bound === 'number') push(bound, bound + step)
    push(0)
  }
  if (types.includes('string')) {
    if (typeof schema.minLength === 'number')
      push('a'.repeat(schema.minLength), 'a'.repeat(Math.max(0, schema.minLength - 1)))
    if (typeof schema.maxLength === 'number')
      push('я'.repeat(schema.maxLength), 'я'.repeat(schema.maxLength + 1))
    push('')
  }
  if (types.includes('array'))
    push(
      [],
      ...edgeValues(schema.items)
        .slice(0, 3)
        .map((v) => [v]),
    )
  if (types.includes('object') && schema.properties) push({}, edgeObject(schema, 0), edgeObject(schema, 1))
  return out
}

/** An object whose every property takes its `pick`-th edge value (first or second). */
function edgeObject(schema: Json, pick: number): Record<string, unknown> {
  const obj: Record<string, unknown> = {}
  for (const [key, sub] of Object.entries<Json>(schema.properties ?? {})) {
    const values = edgeValues(sub)
    if (values.length) obj[key] = values[Math.min(pick, values.length - 1)]
  }
  return obj
}
