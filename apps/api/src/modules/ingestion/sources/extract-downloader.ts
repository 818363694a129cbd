import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../../platform/log.js'
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF, wait } from './backoff.js'
import { detectExtractFormat, type ExtractFormat } from './extract-format.js'
import { fetchToFile } from './fetch-to-file.js'
import { UpstreamError } from './upstream-error.js'

export interface DownloadExtractOptions {
  maxBytes: number
  /** Whole transfer of one try. */
  timeoutSeconds: number
  userAgent: string
  log: Logger
  fetch?: typeof fetch
  signal?: AbortSignal
  /** Requests in total (default 3). */
  maxTries?: number
  backoff?: BackoffOptions
  /** Longest silence once the answer has started (default 60 s). */
  idleTimeoutMs?: number
}

export interface DownloadedExtract {
  path: string
  bytes: number
  format: ExtractFormat
}

const EXTENSION: Record<ExtractFormat, string> = { pbf: 'osm.pbf', xml: 'osm', 'xml.gz': 'osm.gz' }

/**
 * Downloads an OSM extract (`.osm.pbf`, `.osm`, `.osm.gz`) into `destDir`, named after the URL and
 * the format found in the file itself, so a mislabelled URL still yields a correctly named file.
 */
export async function downloadExtract(
  url: string,
  destDir: string,
  opts: DownloadExtractOptions,
): Promise<DownloadedExtract> {
  const parsed = new URL(url)
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`extract URL must be http or https, got ${parsed.protocol}`)
  }
  const { log, signal } = opts
  const maxTries = opts.maxTries ?? 3
  const base = baseName(parsed)
  await mkdir(destDir, { recursive: true })
  const partPath = join(destDir, `${base}.${randomBytes(4).toString('hex')}.part`)
  const where = `${parsed.origin}${parsed.pathname}`

  for (let tries = 1; ; tries++) {
    try {
      const res = await fetchToFile({
        fetch: opts.fetch ?? globalThis.fetch,
        url,
        init: { headers: { 'User-Agent': opts.userAgent } },
        partPath,
        maxBytes: opts.maxBytes,
        totalMs: opts.timeoutSeconds * 1000,
        idleMs: opts.idleTimeoutMs ?? 60_000,
        ...(signal ? { signal } : {}),
      })
      if (!res.ok) {
        const transient = res.status === 429 || res.status === 408 || res.status >= 500
        throw new UpstreamError(
          res.status === 429
            ? 'UPSTREAM_RATE_LIMITED'
            : transient
              ? 'UPSTREAM_UNAVAILABLE'
              : 'UPSTREAM_INVALID_RESPONSE',
          `HTTP ${res.status} for ${where}`,
          { retryable: transient },
        )
      }
      const format = await detectExtractFormat(partPath)
      if (!format) {
        throw new UpstreamError(
          'UPSTREAM_INVALID_RESPONSE',
          `${where} did not serve OSM data (not PBF, OSM XML or gzipped OSM XML; content-type ${res.headers.get('content-type') ?? 'none'})`,
          { retryable: false },
        )
      }
      const path = join(destDir, `${base}.${EXTENSION[format]}`)
      await rename(partPath, path)
      log.info({ url: where, try: tries, bytes: res.bytes, format }, 'extract downloaded')
      return { path, bytes: res.bytes, format }
    } catch (err) {
      await rm(partPath, { force: true })
      if (!(err instanceof UpstreamError)) throw err
      err.endpoint = where
      err.tries = tries
      if (!err.retryable || tries >= maxTries) {
        log.warn({ url: where, try: tries, code: err.code, reason: err.message }, 'extract download failed')
        throw err
      }
      const waitMs = backoffDelayMs(tries, opts.backoff ?? DEFAULT_BACKOFF)
      log.warn(
        { url: where, try: tries, code: err.code, reason: err.message, waitMs },
        'extract try failed, retrying',
      )
      await wait(waitMs, signal)
    }
  }
}

/** `https://host/russia/moscow-latest.osm.pbf` → `moscow-latest`; only safe file-name characters. */
function baseName(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').pop() ?? '')
  const stem = last.replace(/\.(osm\.pbf|pbf|osm\.gz|osm\.bz2|osm|gz|xml)$/i, '')
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '')
  return safe.slice(0, 100) || 'extract'
}
