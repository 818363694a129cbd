/**
 * What an Overpass server says about our quota at `/api/status`, e.g.
 *
 *   Connected as: 1234567
 *   Current time: 2026-11-28T10:00:00Z
 *   Rate limit: 2
 *   Slot available after: 2026-11-28T10:00:07Z, in 7 seconds.
 *   Currently running queries (pid, space limit, time limit, start time):
 *
 * or `2 slots available now.` instead of the "Slot available after" lines.
 */
export interface OverpassStatus {
  /** Concurrent queries allowed per client; 0 means the server sets no limit; null if not stated. */
  rateLimit: number | null
  slotsAvailableNow: number
  /** Seconds until each busy slot frees up, as announced (never negative). */
  slotWaitsSeconds: number[]
}

export function parseOverpassStatus(text: string): OverpassStatus {
  const rate = /^\s*Rate limit:\s*(\d+)\s*$/im.exec(text)
  const now = /^\s*(\d+)\s+slots?\s+available\s+now\b/im.exec(text)
  const slotWaitsSeconds: number[] = []
  for (const m of text.matchAll(/^\s*Slot available after:\s*\S+?,?\s+in\s+(-?\d+)\s+seconds?\b/gim)) {
    slotWaitsSeconds.push(Math.max(0, Number(m[1])))
  }
  return {
    rateLimit: rate ? Number(rate[1]) : null,
    slotsAvailableNow: now ? Number(now[1]) : 0,
    slotWaitsSeconds,
  }
}

/**
 * Milliseconds to wait before the next query may start: 0 when a slot is free or the server has no
 * limit, the earliest announced slot otherwise, null when the text says neither (not a status page).
 */
export function msUntilSlot(status: OverpassStatus): number | null {
  if (status.slotsAvailableNow > 0 || status.rateLimit === 0) return 0
  if (status.slotWaitsSeconds.length === 0) return null
  return Math.min(...status.slotWaitsSeconds) * 1000
}
