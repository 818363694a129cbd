import { type DestinationStream, type Logger, pino } from 'pino'

export type { Logger }

/**
 * Secrets that may travel in headers or bodies. pino censors them wherever a log call passes such an
 * object, so a careless `log.info({ headers })` cannot leak a token.
 */
export const REDACTED_PATHS = [
  'headers.authorization',
  'headers["x-admin-token"]',
  'headers["upstash-signature"]',
  'req.headers.authorization',
  'req.headers["x-admin-token"]',
  'req.headers["upstash-signature"]',
  '*.token',
  '*.password',
  '*.secret',
  '*.signature',
  '*.adminToken',
  '*.adminOperators',
  '*.signingKey',
  'token',
  'password',
  'secret',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gorod-api' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
}

/** Command-line processes keep stdout for their answer (tables, JSON): their logs go to stderr. */
export function createCliLogger(level: string): Logger {
  return createLogger(level, pino.destination(2))
}
