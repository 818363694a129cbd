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

function resolve(schema: Json): Json {
  if (schema?.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '')
    return resolve(CONTRACT.components.schemas[name])
  }
  return schema
}

/**
 * The failures of `value` against a contract schema (the subset the contract uses: type, required,
 * properties, items, enum); empty when it conforms.
 */
export function schemaErrors(schemaOrRef: Json, value: unknown, at = '$'): string[] {
  const schema = resolve(schemaOrRef)
  if (!schema) return []
  const errors: string[] = []
  const type = schema.type as string | undefined
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value
  if (type === 'integer') {
    if (!Number.isInteger(value)) errors.push(`${at}: not an integer`)
  } else if (type && type !== actual) {
    errors.push(`${at}: ${actual}, want ${type}`)
    return errors
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: ${String(value)} not in enum`)
  if (type === 'object' && value && typeof value === 'object') {
    const obj = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${at}.${key}: missing`)
    for (const [key, sub] of Object.entries<Json>(schema.properties ?? {})) {
      if (key in obj) errors.push(...schemaErrors(sub, obj[key], `${at}.${key}`))
    }
  }
  if (type === 'array' && Array.isArray(value) && schema.items) {
    value.forEach((v, i) => {
      errors.push(...schemaErrors(schema.items, v, `${at}[${i}]`))
    })
  }
  return errors
}

export const PROBLEM_SCHEMA: Json = { $ref: '#/components/schemas/Problem' }
