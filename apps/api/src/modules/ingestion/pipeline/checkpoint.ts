/**
 * What a run saves between deliveries. Each phase starts from what the previous one left here, so a
 * later delivery (after a crash, a slice deadline or a transient error) continues instead of
 * starting over. Saved as jsonb on the run row.
 */
export type Phase = 'boundary' | 'fetch' | 'items' | 'done'

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
  /**
   * The first `through` kept records, in the order the data yields them, are settled in staging: a
   * later delivery reads the data again and writes only what comes after them. `total` (the kept
   * records in the data) is set once the data has been read through, before anything is staged.
   */
  items?: { through: number; total?: number }
  /** Set by finalize, in its transaction: a repeated delivery returns these. */
  stats?: Record<string, unknown>
}

const PHASES: readonly string[] = ['boundary', 'fetch', 'items', 'done']
/** Phases of the earlier two-pass pipeline (buffer, then upsert): such a run redoes its items. */
const LEGACY_WRITE_PHASES: readonly string[] = ['upsert', 'finalize']

/** A saved checkpoint, or a fresh start when there is none or it is not one of ours. */
export function parseCheckpoint(raw: unknown): Checkpoint {
  const value = typeof raw === 'string' ? safeParse(raw) : raw
  if (value === null || typeof value !== 'object') return { phase: 'boundary' }
  const cp = value as {
    phase?: unknown
    data?: Checkpoint['data']
    items?: { through?: unknown; total?: unknown }
  }
  if (typeof cp.phase !== 'string') return { phase: 'boundary' }
  let phase: string = LEGACY_WRITE_PHASES.includes(cp.phase) ? 'items' : cp.phase
  if (!PHASES.includes(phase)) return { phase: 'boundary' }
  // A checkpoint past a phase must carry that phase's result; otherwise redo from the last sound point.
  if (phase === 'done' && (cp as Checkpoint).stats) return cp as Checkpoint
  if (phase === 'done') phase = 'items'
  if (phase === 'items' && !cp.data) return { phase: 'fetch' }
  if (phase === 'items') {
    const through = cp.items?.through
    // Rows staged by an earlier delivery are found unchanged when written again: nothing is lost.
    const total = cp.items?.total
    const sound = typeof through === 'number' && Number.isInteger(through) && through >= 0
    return {
      phase: 'items',
      data: cp.data!,
      // Without its total the data has not been read through yet: nothing was staged from it.
      items: sound && typeof total === 'number' ? { through, total } : { through: 0 },
    }
  }
  return { phase: phase as Phase }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
