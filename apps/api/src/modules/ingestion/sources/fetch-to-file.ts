import { open, rm } from 'node:fs/promises'
import { UpstreamError } from './upstream-error.js'

export interface FetchToFileOptions {
  fetch: typeof fetch
  url: string
  init: RequestInit
  /** Where the body goes; removed again if the attempt fails. */
  partPath: string
  maxBytes: number
  /** Whole attempt, from sending the request to the last byte. */
  totalMs: number
  /** Longest silence allowed once headers arrived: a stalled body is aborted rather than awaited. */
  idleMs: number
  signal?: AbortSignal
}

export type FetchToFileResult =
  | { ok: true; status: number; headers: Headers; bytes: number }
  /** Not a 2xx: nothing was written; `snippet` is the start of the body, for the operator. */
  | { ok: false; status: number; headers: Headers; snippet: string }

const SNIPPET_BYTES = 2_048

/**
 * One HTTP attempt that streams a 2xx body to disk chunk by chunk (memory stays flat whatever the
 * size) under a byte limit, a total deadline and an idle deadline. Failures of the transfer itself
 * become `UpstreamError`s; a cancellation by the caller is rethrown as the caller's reason.
 */
export async function fetchToFile(opts: FetchToFileOptions): Promise<FetchToFileResult> {
  // One controller, held by this frame and by its own timers, is the only signal fetch sees. Not
  // `AbortSignal.any([..., AbortSignal.timeout()])`: a combined signal keeps its sources only weakly,
  // so a timeout signal nobody else references can be garbage-collected before it fires, and the
  // request then waits for whatever deadline is left (see docs/reliability.md).
  const ctrl = new AbortController()
  let timedOut: 'total' | 'idle' | null = null
  const expire = (kind: 'total' | 'idle') => {
    timedOut = kind
    ctrl.abort()
  }
  const onCallerAbort = () => ctrl.abort(opts.signal?.reason)
  if (opts.signal?.aborted) onCallerAbort()
  else opts.signal?.addEventListener('abort', onCallerAbort, { once: true })
  const total = new Deadline(opts.totalMs, () => expire('total'))
  total.touch()
  // Armed once headers arrive: before that only the total deadline applies (a server may think).
  const idle = new Deadline(opts.idleMs, () => expire('idle'))
  const touch = () => idle.touch()
  const signal = ctrl.signal
  let bytes = 0
  let wrote = false

  const fail = (err: unknown): never => {
    if (opts.signal?.aborted) throw opts.signal.reason
    if (err instanceof UpstreamError) throw err
    if (timedOut) {
      const what =
        timedOut === 'idle' ? `no data for ${opts.idleMs} ms` : `no complete answer in ${opts.totalMs} ms`
      throw new UpstreamError('UPSTREAM_TIMEOUT', `${what} (${bytes} bytes received)`, { retryable: true })
    }
    if (wrote || bytes > 0) {
      throw new UpstreamError(
        'UPSTREAM_INVALID_RESPONSE',
        `connection closed after ${bytes} bytes of the body`,
        {
          retryable: true,
          cause: err,
        },
      )
    }
    throw new UpstreamError('UPSTREAM_UNAVAILABLE', `request failed: ${describe(err)}`, {
      retryable: true,
      cause: err,
    })
  }

  try {
    const res = await opts.fetch(opts.url, { ...opts.init, signal }).catch(fail)
    touch()
    if (!res.ok) {
      const snippet = await readSnippet(res, touch).catch(() => '')
      return { ok: false, status: res.status, headers: res.headers, snippet }
    }
    const announced = Number(res.headers.get('content-length') ?? Number.NaN)
    if (announced > opts.maxBytes) {
      await res.body?.cancel().catch(() => {})
      throw tooLarge(`announced ${announced} bytes`, opts.maxBytes)
    }
    const file = await open(opts.partPath, 'w')
    wrote = true
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          touch()
          bytes += chunk.byteLength
          if (bytes > opts.maxBytes) {
            ctrl.abort()
            throw tooLarge(`more than ${bytes - chunk.byteLength} bytes`, opts.maxBytes)
          }
          await file.write(chunk)
          touch()
        }
      }
    } finally {
      await file.close()
    }
    return { ok: true, status: res.status, headers: res.headers, bytes }
  } catch (err) {
    if (wrote) await rm(opts.partPath, { force: true })
    return fail(err)
  } finally {
    total.clear()
    idle.clear()
    opts.signal?.removeEventListener('abort', onCallerAbort)
  }
}

/**
 * A deadline measured from the last `touch()` that expires only after the event loop has had a turn
 * to deliver what arrived meanwhile: when the timer fires, the check runs once more after the loop's
 * I/O phase (`setImmediate`), so a process that was itself too busy to read its socket does not
 * declare a live upstream silent. A silent upstream still expires within one loop turn of `ms`.
 */
class Deadline {
  private last = 0
  private timer: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined
  private done = false

  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {}

  /** Restarts the wait from now; the first call arms the deadline. */
  touch(): void {
    this.last = Date.now()
    if (this.timer === undefined && !this.done) this.arm(this.ms)
  }

  clear(): void {
    this.done = true
    clearTimeout(this.timer)
    clearImmediate(this.immediate)
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.immediate = setImmediate(() => this.check())
    }, ms)
  }

  private check(): void {
    if (this.done) return
    const left = this.ms - (Date.now() - this.last)
    if (left > 0) {
      this.arm(left)
      return
    }
    this.done = true
    this.onExpire()
  }
}

function tooLarge(what: string, max: number): UpstreamError {
  return new UpstreamError('UPSTREAM_TOO_LARGE', `answer exceeds the limit of ${max} bytes (${what})`, {
    retryable: false,
  })
}

async function readSnippet(res: Response, touch: () => void): Promise<string> {
  if (!res.body) return ''
  const parts: Uint8Array[] = []
  let n = 0
  const reader = res.body.getReader()
  try {
    while (n < SNIPPET_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      touch()
      parts.push(value)
      n += value.byteLength
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  const text = Buffer.concat(parts).subarray(0, SNIPPET_BYTES).toString('utf8')
  // Overpass explains a bad query in an HTML page: keep the words, drop the markup.
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 400)
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause =
    err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})` : ''
  return `${err.message}${cause}`
}
