import { PermanentJobError, RunCancelledError, TransientJobError } from '../../../platform/jobs/types.js'
import { OverpassRemarkError } from '../osm/overpass-json-reader.js'
import { UpstreamError } from '../sources/upstream-error.js'

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function passThrough(err: unknown): boolean {
  return (
    err instanceof PermanentJobError ||
    err instanceof TransientJobError ||
    err instanceof RunCancelledError ||
    (err instanceof Error && err.name === 'AbortError')
  )
}

/** A failed download: the upstream's own verdict decides whether another attempt may help. */
export function fromUpstream(err: unknown): unknown {
  if (passThrough(err)) return err
  if (err instanceof UpstreamError) {
    const where = err.endpoint ? ` (${err.endpoint}, ${err.tries ?? 1} tries)` : ''
    return err.retryable
      ? new TransientJobError(err.code, `${err.message}${where}`, { cause: err })
      : new PermanentJobError(err.code, `${err.message}${where}`, { cause: err })
  }
  return err
}

/**
 * A failure while reading the fetched data. A downloaded answer that cannot be read is the upstream's
 * fault and a new download may be sound; a local file stays as broken as it is.
 */
export function fromRead(err: unknown, downloaded: boolean): unknown {
  if (passThrough(err)) return err
  if (err instanceof OverpassRemarkError)
    return new TransientJobError('UPSTREAM_RUNTIME_ERROR', err.message, { cause: err })
  if (err instanceof UpstreamError) return fromUpstream(err)
  if (err instanceof Error && isSystemError(err)) return err
  return downloaded
    ? new TransientJobError('UPSTREAM_INVALID_RESPONSE', `unreadable OSM data: ${message(err)}`, {
        cause: err,
      })
    : new PermanentJobError('SOURCE_INVALID', `unreadable OSM file: ${message(err)}`, { cause: err })
}

/** I/O failures of our own machine (disk full, file gone) are not a verdict on the data. */
function isSystemError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code)
}
