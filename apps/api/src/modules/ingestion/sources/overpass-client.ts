import { createHash } from 'node:crypto'
import { rename, rm } from 'node:fs/promises'
import type { Logger } from '../../../platform/log.js'
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF, wait } from './backoff.js'
import { describe, fetchToFile } from './fetch-to-file.js'
import { checkOverpassJson } from './overpass-answer.js'
import { msUntilSlot, parseOverpassStatus } from './overpass-status.js'
import { UpstreamError } from './upstream-error.js'

export interface OverpassClientOptions {
  /** Interpreter endpoints, e.g. https://overpass-api.de/api/interpreter; tried in turn. */
  urls: string[]
  /** The `[timeout:]` the queries are built with: the server may legitimately think this long. */
  timeoutSeconds: number
  maxBytes: number
  /** Interpreter requests in total for one download, over all endpoints. */
  maxTries: number
  userAgent: string
  log: Logger
  backoff?: BackoffOptions
  /** Longest wait for an answer of `/api/status` (default 15 s). */
  statusTimeoutMs?: number
  /** Longest wait for a rate-limit slot announced by `/api/status` (default 120 s). */
  maxSlotWaitMs?: number
  /** Added to the query timeout for transfer and queueing (default 60 s). */
  timeoutMarginMs?: number
  /** Longest silence once an answer has started (default 60 s). */
  idleTimeoutMs?: number
  fetch?: typeof fetch
}

export interface OverpassDownload {
  bytes: number
  endpoint: string
  tries: number
}

const STATUS_TIMEOUT_MS = 15_000
/** Slot times are announced to the second: start a little after, not a little before. */
const SLOT_SLACK_MS = 250

/**
 * Fetches Overpass answers to files, as the public instances ask clients to behave: identified,
 * waiting for the announced slot after a 429, backing off and moving to another instance when one
 * is overloaded, and never taking an answer that carries a runtime-error remark for data.
 */
export class OverpassClient {
  private readonly fetch: typeof fetch
  private readonly backoff: BackoffOptions
  private next = 0

  constructor(private readonly opts: OverpassClientOptions) {
    if (opts.urls.length === 0) throw new TypeError('OverpassClient needs at least one endpoint URL')
    if (!opts.userAgent.trim()) throw new TypeError('OverpassClient needs a descriptive User-Agent')
    if (opts.maxTries < 1) throw new TypeError('maxTries must be at least 1')
    this.fetch = opts.fetch ?? globalThis.fetch
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF
  }

  async download(query: string, destPath: string, signal?: AbortSignal): Promise<OverpassDownload> {
    const { log, maxTries } = this.opts
    const partPath = `${destPath}.part`
    const queryRef = {
      queryChars: query.length,
      queryHash: createHash('sha256').update(query).digest('hex').slice(0, 12),
    }
    let endpoint = this.opts.urls[this.next % this.opts.urls.length]!
    let failures = 0
    let last: UpstreamError | null = null

    for (let tries = 1; tries <= maxTries; tries++) {
      const started = Date.now()
      let delayMs = 0
      let sameEndpoint = false
      try {
        const bytes = await this.tryOnce(endpoint, query, partPath, signal)
        await rename(partPath, destPath)
        log.info(
          { endpoint, try: tries, bytes, ms: Date.now() - started, ...queryRef },
          'overpass answer saved',
        )
        return { bytes, endpoint, tries }
      } catch (err) {
        await rm(partPath, { force: true })
        if (!(err instanceof UpstreamError)) throw err
        err.endpoint = endpoint
        err.tries = tries
        last = err
        if (!err.retryable || tries === maxTries) break
        failures++
        if (err.code === 'UPSTREAM_RATE_LIMITED') {
          const slotMs = await this.slotWaitMs(endpoint, signal)
          if (slotMs !== null) {
            delayMs = slotMs + SLOT_SLACK_MS
            sameEndpoint = true
          }
        }
        if (!sameEndpoint) delayMs = backoffDelayMs(failures, this.backoff)
        log.warn(
          { endpoint, try: tries, code: err.code, reason: err.message, waitMs: delayMs, ...queryRef },
          'overpass try failed, retrying',
        )
      }
      if (!sameEndpoint) endpoint = this.rotate()
      await wait(delayMs, signal)
    }
    const final = last!
    log.warn(
      { endpoint: final.endpoint, tries: final.tries, code: final.code, ...queryRef },
      'overpass download failed',
    )
    throw final
  }

  private rotate(): string {
    this.next = (this.next + 1) % this.opts.urls.length
    return this.opts.urls[this.next]!
  }

  /** One interpreter request; resolves with the byte count of a validated answer in `partPath`. */
  private async tryOnce(
    endpoint: string,
    query: string,
    partPath: string,
    signal?: AbortSignal,
  ): Promise<number> {
    const res = await fetchToFile({
      fetch: this.fetch,
      url: endpoint,
      init: {
        method: 'POST',
        headers: {
          'User-Agent': this.opts.userAgent,
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8',
        },
        body: new URLSearchParams({ data: query }).toString(),
      },
      partPath,
      maxBytes: this.opts.maxBytes,
      totalMs: this.opts.timeoutSeconds * 1000 + (this.opts.timeoutMarginMs ?? 60_000),
      idleMs: this.opts.idleTimeoutMs ?? 60_000,
      ...(signal ? { signal } : {}),
    })
    this.opts.log.info({ endpoint, status: res.status }, 'overpass responded')
    if (!res.ok) throw statusError(res.status, res.snippet)
    await checkOverpassJson(partPath, res.bytes)
    return res.bytes
  }

  /** Asks the endpoint's `/api/status` when our next slot frees up; null when it cannot tell. */
  private async slotWaitMs(endpoint: string, signal?: AbortSignal): Promise<number | null> {
    const url = statusUrl(endpoint)
    // An explicit controller and timer, not `AbortSignal.any([signal, AbortSignal.timeout()])`, whose
    // timeout source may be garbage-collected before it fires (see fetch-to-file.ts).
    const ctrl = new AbortController()
    const timer = setTimeout(() => ctrl.abort(), this.opts.statusTimeoutMs ?? STATUS_TIMEOUT_MS)
    const onCallerAbort = () => ctrl.abort(signal?.reason)
    signal?.addEventListener('abort', onCallerAbort, { once: true })
    try {
      if (signal?.aborted) throw signal.reason
      const res = await this.fetch(url, {
        headers: { 'User-Agent': this.opts.userAgent, Accept: 'text/plain' },
        signal: ctrl.signal,
      })
      const text = (await res.text()).slice(0, 10_000)
      const ms = res.ok ? msUntilSlot(parseOverpassStatus(text)) : null
      const cap = this.opts.maxSlotWaitMs ?? 120_000
      this.opts.log.info(
        { endpoint, status: res.status, slotInMs: ms, capMs: cap },
        'overpass status consulted',
      )
      return ms === null || ms > cap ? null : ms
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      this.opts.log.warn({ endpoint, reason: describe(err) }, 'overpass status unreadable')
      return null
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onCallerAbort)
    }
  }
}

/** `https://host/api/interpreter` → `https://host/api/status`. */
export function statusUrl(endpoint: string): string {
  const u = new URL(endpoint)
  u.pathname = /\/interpreter\/?$/.test(u.pathname)
    ? u.pathname.replace(/interpreter\/?$/, 'status')
    : '/api/status'
  u.search = ''
  return u.toString()
}

function statusError(status: number, snippet: string): UpstreamError {
  const detail = snippet ? `: ${snippet}` : ''
  if (status === 429)
    return new UpstreamError('UPSTREAM_RATE_LIMITED', `HTTP 429${detail}`, { retryable: true })
  if (status === 504 || status === 408)
    return new UpstreamError('UPSTREAM_TIMEOUT', `HTTP ${status}${detail}`, { retryable: true })
  if (status >= 500)
    return new UpstreamError('UPSTREAM_UNAVAILABLE', `HTTP ${status}${detail}`, { retryable: true })
  // 400 is how Overpass rejects a query it cannot parse: asking again gets the same answer.
  return new UpstreamError('UPSTREAM_INVALID_RESPONSE', `HTTP ${status}${detail}`, { retryable: false })
}
