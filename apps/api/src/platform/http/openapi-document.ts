import { errorDescription, PROBLEM_CONTENT_TYPE } from './problem.js'

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is untyped JSON here.
type Json = any

const BODY_METHODS = new Set(['post', 'put', 'patch'])
const METHODS = ['get', 'put', 'post', 'delete', 'patch']

/**
 * Statuses the service-wide middleware can answer on any operation, whatever its route declares:
 * a malformed request (400), a body too large or not JSON (413, 415, only where a body is read), an
 * unexpected error (500) and an unavailable database (503). Declared here once, so every route, the
 * ones added tomorrow included, has them in the contract.
 */
export function sharedStatuses(method: string): number[] {
  return BODY_METHODS.has(method.toLowerCase()) ? [400, 413, 415, 500, 503] : [400, 500, 503]
}

/** The document with the shared error responses added to every operation that lacks them. */
export function withSharedErrorResponses<D extends object>(document: D): D {
  const doc = document as Json
  for (const item of Object.values<Json>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method]
      if (!op) continue
      op.responses ??= {}
      for (const status of sharedStatuses(method)) {
        op.responses[String(status)] ??= {
          description: errorDescription(status),
          content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
        }
      }
      op.responses = sortByStatus(op.responses)
    }
  }
  return document
}

function sortByStatus(responses: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)))
}
