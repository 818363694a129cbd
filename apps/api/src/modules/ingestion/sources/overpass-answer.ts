import { open } from 'node:fs/promises'
import { UpstreamError } from './upstream-error.js'

/** Overpass appends its remark after the elements, so the tail of the file is enough to find it. */
const TAIL_BYTES = 8_192
const HEAD_BYTES = 64

/**
 * A top-level remark is the last member of the document: anchoring at the closing brace keeps a tag
 * that happens to be called "remark" inside some element from being taken for one.
 */
const TRAILING_REMARK = /"remark"\s*:\s*"((?:[^"\\]|\\.)*)"\s*}\s*$/
const FAILED_REMARK = /^\s*(runtime error|runtime remark|error)/i

/**
 * Cheap checks on a saved Overpass JSON answer without loading it: it opens and closes like a JSON
 * object (a cut connection leaves no closing brace), and it carries no runtime-error remark (Overpass
 * answers a query that ran out of time or memory with HTTP 200, partial elements and such a remark).
 */
export async function checkOverpassJson(path: string, size: number): Promise<void> {
  const file = await open(path, 'r')
  let head: string
  let tail: string
  try {
    head = await readAt(file, 0, Math.min(size, HEAD_BYTES))
    const from = Math.max(0, size - TAIL_BYTES)
    tail = await readAt(file, from, size - from)
  } finally {
    await file.close()
  }
  if (!head.trimStart().startsWith('{')) {
    const start = head.trimStart().slice(0, 40)
    throw new UpstreamError(
      'UPSTREAM_INVALID_RESPONSE',
      `answer is not a JSON object (starts with ${JSON.stringify(start)})`,
      {
        retryable: false,
      },
    )
  }
  const remark = TRAILING_REMARK.exec(tail)
  if (remark && FAILED_REMARK.test(remark[1]!)) {
    const text = JSON.parse(`"${remark[1]}"`) as string
    throw new UpstreamError('UPSTREAM_RUNTIME_ERROR', `Overpass remark: ${text}`, { retryable: true })
  }
  if (!tail.trimEnd().endsWith('}')) {
    throw new UpstreamError(
      'UPSTREAM_INVALID_RESPONSE',
      `answer is incomplete JSON (${size} bytes, no closing brace)`,
      {
        retryable: true,
      },
    )
  }
}

async function readAt(
  file: Awaited<ReturnType<typeof open>>,
  position: number,
  length: number,
): Promise<string> {
  const buf = Buffer.alloc(length)
  const { bytesRead } = await file.read(buf, 0, length, position)
  // A multi-byte character cut at the window's edge decodes to U+FFFD, which none of the checks need.
  return buf.subarray(0, bytesRead).toString('utf8')
}
