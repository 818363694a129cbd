export type UpstreamErrorCode =
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_RATE_LIMITED'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_TOO_LARGE'
  | 'UPSTREAM_INVALID_RESPONSE'
  | 'UPSTREAM_RUNTIME_ERROR'

/**
 * A failed fetch of OSM data. `retryable` tells the job system whether a later attempt of the whole job
 * might succeed (the server was busy, slow or cut the answer) or never will (a bad query, an answer
 * over the byte limit, a URL that serves something that is not OSM data).
 */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  readonly code: UpstreamErrorCode
  readonly retryable: boolean
  endpoint?: string
  tries?: number

  constructor(
    code: UpstreamErrorCode,
    message: string,
    opts: { retryable: boolean; endpoint?: string; tries?: number; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    this.retryable = opts.retryable
    if (opts.endpoint !== undefined) this.endpoint = opts.endpoint
    if (opts.tries !== undefined) this.tries = opts.tries
  }
}

/** The identification public OSM services ask for: a product name, a version and a way to reach us. */
export function ingestUserAgent(version: string, contact: string): string {
  return `gorod-ingest/${version} (+${contact})`
}
