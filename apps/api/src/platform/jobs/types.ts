import type { Kysely } from 'kysely'
import type { DB, RunTrigger } from '../db/schema.js'
import type { Logger } from '../log.js'

/** Where a run's data comes from. `file` exists only for runs started by the CLI in its own process. */
export type RunSource =
  | { kind: 'overpass' }
  | { kind: 'extract'; url: string }
  | { kind: 'file'; name: string }

/** A claimed run as its handler sees it. */
export interface ClaimedRun {
  id: string
  type: string
  /** Null only for job types without a city (`account_purge`): city handlers use `runCity`. */
  cityId: number | null
  citySlug: string | null
  boundaryRef: string
  runDate: string
  source: RunSource
  trigger: RunTrigger
  attempts: number
  maxAttempts: number
  /** What the previous delivery saved with `saveCheckpoint`, or null on a first start. */
  checkpoint: unknown
}

/** The city of a city-bound run; a run of such a type without a city is a permanent failure. */
export function runCity(run: ClaimedRun): { cityId: number; citySlug: string } {
  if (run.cityId === null || run.citySlug === null)
    throw new PermanentJobError('RUN_WITHOUT_CITY', `a ${run.type} run needs a city`)
  return { cityId: run.cityId, citySlug: run.citySlug }
}

export interface RunProgress {
  phase: string
  done?: number
  total?: number
  message?: string
}

/**
 * What a job handler gets. Every call that touches the run also renews its lease (heartbeat) and
 * throws `RunCancelledError` when an operator has cancelled the run, so a handler that reports
 * progress between batches stops at its next batch.
 */
export interface JobContext {
  run: ClaimedRun
  db: Kysely<DB>
  log: Logger
  /** Aborted when the run is cancelled or the process is shutting down. */
  signal: AbortSignal
  /** Extra inputs only the starting process has (the CLI's local file path). */
  local: { filePath?: string }
  heartbeat(): Promise<void>
  progress(progress: RunProgress): Promise<void>
  /** Persist where the run has got to; the next delivery of this run receives it as `run.checkpoint`. */
  saveCheckpoint(checkpoint: unknown): Promise<void>
  /** True once this delivery has used its time slice (serverless): save a checkpoint and return `yielded`. */
  shouldYield(): boolean
}

export type JobOutcome = { status: 'succeeded'; stats: Record<string, unknown> } | { status: 'yielded' }

export type JobHandler = (ctx: JobContext) => Promise<JobOutcome>

/** `{ type → handler }`, built by the composition root: the platform knows no job type. */
export type JobHandlers = Record<string, JobHandler>

/**
 * A failure that another attempt cannot fix (bad source, unknown type, refused input): FAILED now.
 * `stats` is what the run did before it failed (an import that refused some files), kept on the run.
 */
export class PermanentJobError extends Error {
  readonly stats: Record<string, unknown> | undefined
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions & { stats?: Record<string, unknown> },
  ) {
    super(message, options)
    this.name = 'PermanentJobError'
    this.stats = options?.stats
  }
}

/**
 * A failure worth retrying (an upstream that is down, a lost connection). The transport retries
 * with backoff; after the last attempt the run ends FAILED with this code.
 */
export class TransientJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'TransientJobError'
  }
}

export class RunCancelledError extends Error {
  constructor() {
    super('run cancelled')
    this.name = 'RunCancelledError'
  }
}
