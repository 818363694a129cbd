import { setTimeout as sleep } from 'node:timers/promises'

export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 60_000 }

/**
 * Exponential delay with "equal jitter": half fixed, half random, so clients that failed together do
 * not come back together, yet never retry at once.
 */
export function backoffDelayMs(failures: number, { baseMs, maxMs }: BackoffOptions): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/** Sleeps unless the caller cancels, in which case the caller's reason is thrown. */
export async function wait(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted()
    return
  }
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined)
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    throw err
  }
}
