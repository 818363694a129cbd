/**
 * What a run saves between deliveries. Each phase starts from what the previous one left here, so a
 * later delivery (after a crash, a slice deadline or a transient error) continues instead of
 * starting over. Saved as jsonb on the run row.
 */
export type Phase = 'boundary' | 'fetch' | 'items' | 'upsert' | 'finalize' | 'done'

export type AreaFilter = 'polygon' | 'bbox'

/** Where the run's data came from, as reported in the stats. */
export interface SourceInfo {
  kind: 'overpass' | 'extract' | 'file'
  bytes: number
  endpoint?: string
  url?: string
  name?: string
  format?: string
}

export interface ReadCounts {
  nodes: number
  ways: number
  relations: number
}

export interface Checkpoint {
  phase: Phase
  /** Set once fetched; `path` is a file in the run's work dir (absent for local files). */
  data?: { path: string | null; source: SourceInfo }
  /** Set once the items phase has finished. */
  items?: { read: ReadCounts; kept: number; area_filter: AreaFilter }
  /** Items with seq <= through are written to staging; counts are of those batches. */
  upsert?: { through: number; new: number; changed: number }
  /** Set by finalize, in its transaction: a repeated delivery returns these. */
  stats?: Record<string, unknown>
}

const PHASES: readonly Phase[] = ['boundary', 'fetch', 'items', 'upsert', 'finalize', 'done']

/** A saved checkpoint, or a fresh start when there is none or it is not one of ours. */
export function parseCheckpoint(raw: unknown): Checkpoint {
  const value = typeof raw === 'string' ? safeParse(raw) : raw
  if (value === null || typeof value !== 'object') return { phase: 'boundary' }
  const cp = value as Partial<Checkpoint>
  if (typeof cp.phase !== 'string' || !PHASES.includes(cp.phase)) return { phase: 'boundary' }
  // A checkpoint past a phase must carry that phase's result; otherwise redo from the last sound point.
  if (cp.phase === 'done' && cp.stats) return cp as Checkpoint
  if (cp.phase === 'done') cp.phase = 'finalize'
  if ((cp.phase === 'items' || cp.phase === 'upsert' || cp.phase === 'finalize') && !cp.data)
    return { phase: 'fetch' }
  if ((cp.phase === 'upsert' || cp.phase === 'finalize') && (!cp.items || !cp.upsert))
    return { phase: 'items', data: cp.data! }
  return cp as Checkpoint
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
