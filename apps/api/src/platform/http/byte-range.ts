import type { Context } from 'hono'
import { AppError } from './errors.js'

/**
 * Immutable bytes with a strong ETag, answered whole (200), as one range (206), or not at all (304):
 * `If-None-Match` → 304; `Range` → 206 unless `If-Range` names another ETag (then the whole, 200);
 * a range outside the file → 416 with `Content-Range: bytes *\/size`.
 */
export async function serveBytes(
  c: Context,
  file: {
    size: number
    etag: string
    contentType: string
    cacheControl: string
    /** More headers on every answer (CORS exposure, Vary). */
    headers?: Record<string, string>
    read(range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array>>
  },
): Promise<Response> {
  const { size, etag } = file
  const headers: Record<string, string> = {
    etag,
    'accept-ranges': 'bytes',
    'content-type': file.contentType,
    'cache-control': file.cacheControl,
    'x-content-type-options': 'nosniff',
    ...file.headers,
  }
  const inm = c.req.header('if-none-match')
  if (inm?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return c.body(null, 304, headers)
  const ifRange = c.req.header('if-range')
  // A resumed download of a different file must start over: a weak or other ETag voids the range.
  const rangeHeader = ifRange !== undefined && ifRange.trim() !== etag ? undefined : c.req.header('range')
  const range = parseRange(rangeHeader, size)
  if (range === 'bad')
    throw new AppError('RANGE_NOT_SATISFIABLE', `Диапазон вне файла размером ${size} байт`, undefined, {
      'content-range': `bytes */${size}`,
    })
  if (!range) return c.body(await file.read(), 200, { ...headers, 'content-length': String(size) })
  return c.body(await file.read(range), 206, {
    ...headers,
    'content-length': String(range.end - range.start + 1),
    'content-range': `bytes ${range.start}-${range.end}/${size}`,
  })
}

export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'bad' {
  if (!header) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return 'bad'
  let start: number
  let end: number
  if (m[1] === '') {
    // A suffix of zero bytes is no range at all.
    if (Number(m[2]) === 0) return 'bad'
    start = Math.max(0, size - Number(m[2]))
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  return start > end || start >= size ? 'bad' : { start, end }
}
