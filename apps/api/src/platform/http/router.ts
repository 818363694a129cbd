import { OpenAPIHono } from '@hono/zod-openapi'
import { type ZodError, z } from 'zod'
import type { AppEnv } from './context.js'
import { AppError, type FieldError } from './errors.js'

// Zod's own messages (a wrong type, a number out of range, a string too long) reach app users in
// errors[].message: they are Russian. Messages a schema sets itself are unaffected.
z.config(z.locales.ru())

/** Zod issues as `{ path, message }`, path prefixed by where the value came from (body, query, ...). */
export function fieldErrors(error: ZodError, target?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [target === 'json' ? 'body' : target, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }))
}

/** Every router validates the same way: failures become a 400 problem with field errors, never a ZodError. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const target = (result as { target?: string }).target
        throw new AppError(
          'VALIDATION_FAILED',
          'Запрос не прошёл проверку',
          fieldErrors(result.error as ZodError, target),
        )
      }
    },
  })
}
