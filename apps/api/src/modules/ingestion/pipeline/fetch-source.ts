import { access } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { ClaimedRun, JobContext } from '../../../platform/jobs/types.js'
import { PermanentJobError } from '../../../platform/jobs/types.js'
import { buildOverpassQuery } from '../overpass-query.js'
import { downloadExtract } from '../sources/extract-downloader.js'
import type { OverpassClient } from '../sources/overpass-client.js'
import type { Checkpoint } from './checkpoint.js'
import { fromUpstream } from './job-errors.js'
import type { Target } from './targets.js'

/** Whole transfer of one extract download; regional extracts run to gigabytes. */
const EXTRACT_TIMEOUT_SECONDS = 3_600

export interface FetchDeps {
  overpass: () => OverpassClient
  overpassTimeoutSeconds: number
  overpassMaxBytes: number
  downloadMaxBytes: number
  /** Longest silence once an answer has started. */
  idleTimeoutMs: number
  userAgent: string
  fetch?: typeof fetch
}

/** The local file of a `file` run; only the process that started the run (the CLI) has it. */
export async function localFile(ctx: JobContext): Promise<string> {
  const path = ctx.local.filePath
  if (!path)
    throw new PermanentJobError(
      'SOURCE_NOT_AVAILABLE',
      'this run reads a local file that only the process that started it can see',
    )
  try {
    await access(path)
  } catch {
    throw new PermanentJobError('SOURCE_NOT_AVAILABLE', `local file ${basename(path)} cannot be read`)
  }
  return path
}

export async function fetchSource(
  ctx: JobContext,
  target: Target,
  workDir: string,
  deps: FetchDeps,
): Promise<NonNullable<Checkpoint['data']>> {
  const run: ClaimedRun = ctx.run
  const source = run.source
  if (source.kind === 'file') {
    await localFile(ctx)
    return { path: null, source: { kind: 'file', name: source.name, bytes: 0 } }
  }
  try {
    if (source.kind === 'extract') {
      const got = await downloadExtract(source.url, workDir, {
        maxBytes: deps.downloadMaxBytes,
        timeoutSeconds: EXTRACT_TIMEOUT_SECONDS,
        idleTimeoutMs: deps.idleTimeoutMs,
        userAgent: deps.userAgent,
        log: ctx.log,
        signal: ctx.signal,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      })
      return {
        path: got.path,
        source: { kind: 'extract', url: source.url, bytes: got.bytes, format: got.format },
      }
    }
    const query = buildOverpassQuery({
      relationId: Number(run.boundaryRef),
      timeoutSeconds: deps.overpassTimeoutSeconds,
      maxSizeBytes: deps.overpassMaxBytes,
      target: target === 'poi' ? 'poi' : 'helpers',
    })
    const path = join(workDir, 'data.json')
    const got = await deps.overpass().download(query, path, ctx.signal)
    return { path, source: { kind: 'overpass', bytes: got.bytes, endpoint: got.endpoint } }
  } catch (err) {
    if (err instanceof TypeError)
      throw new PermanentJobError('SOURCE_INVALID', `bad source: ${err.message}`, { cause: err })
    throw fromUpstream(err)
  }
}
