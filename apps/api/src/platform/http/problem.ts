import { z } from '@hono/zod-openapi'
import { ERRORS, type ErrorCode, type FieldError, problemType } from './errors.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:gorod:problem:validation-failed' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
    request_id: z.string(),
    errors: z
      .array(
        z.object({
          path: z.string(),
          message: z.string(),
          gate: z.string().optional().openapi({ description: 'Publish gates: the gate that failed' }),
          stop: z.number().int().optional().openapi({ description: 'Publish gates: the stop (1-based)' }),
        }),
      )
      .optional()
      .openapi({ description: 'Field errors of a validation failure.' }),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details.' })

export type Problem = z.infer<typeof ProblemSchema>

export function problemBody(
  code: ErrorCode,
  detail: string,
  requestId: string,
  errors?: FieldError[],
): Problem {
  const { status, title } = ERRORS[code]
  return {
    type: problemType(code),
    title,
    status,
    detail,
    code,
    request_id: requestId,
    ...(errors ? { errors } : {}),
  }
}

export function problemResponse(
  code: ErrorCode,
  detail: string,
  requestId: string,
  errors?: FieldError[],
  headers?: Record<string, string>,
): Response {
  const body = problemBody(code, detail, requestId, errors)
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId, ...headers },
  })
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: malformed body or parameters (field errors in `errors`).',
  401: 'Missing or invalid credentials.',
  403: 'Credentials valid in form but not allowed.',
  404: 'Not found.',
  405: 'The path exists, the method does not (`Allow` lists the methods).',
  409: 'Conflict with the current state.',
  410: 'The resource existed but is no longer kept.',
  413: 'Body larger than 1 MiB.',
  415: 'Body is not application/json (or an uploaded file is not an allowed medium).',
  431: 'Request line and headers over 16 KiB (answered before the app, never on an operation).',
  416: 'The requested byte range lies outside the file.',
  422: 'Request well-formed but conflicts with existing data (or fails publish gates: every failure in `errors`).',
  429: 'Too many attempts in the current window (see Retry-After).',
  500: 'Unexpected error (no internals are disclosed).',
  503: 'A dependency (the database, a store) is unavailable (see Retry-After).',
}

/** The contract's description of an error status: what it means and which codes answer it. */
export function errorDescription(status: number): string {
  const codes = Object.entries(ERRORS)
    .filter(([, e]) => e.status === status)
    .map(([c]) => `\`${c}\``)
    .join(', ')
  return `${DESCRIPTIONS[status] ?? 'Error.'} Codes: ${codes}.`
}

/** OpenAPI responses for the given statuses, every one a Problem; spread into each route's responses. */
export function errorResponses<S extends number>(...statuses: S[]) {
  const known = new Set(Object.values(ERRORS).map((e) => e.status as number))
  const out = {} as Record<
    S,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  >
  for (const s of [...new Set([400 as S, ...statuses, 500 as S])]) {
    if (!known.has(s)) throw new Error(`No error code maps to status ${s}`)
    out[s] = {
      description: errorDescription(s),
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
    }
  }
  return out
}
