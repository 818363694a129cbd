import { type Kysely, sql } from 'kysely'

const TIMEOUT_MS = 2_000
/** How long a good answer stands: a health check under load must not become the database's load. */
const FRESH_MS = 1_000

/**
 * Answers "does the database answer?" with at most one query in flight, however many health checks
 * arrive at once, and reuses a good answer for a second. A failure is never reused: the next check
 * asks again, so recovery shows at once.
 */
export function createDbProbe<T>(db: Kysely<T>, now: () => number = Date.now) {
  let okAt = Number.NEGATIVE_INFINITY
  let inFlight: Promise<boolean> | null = null
  const ping = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), TIMEOUT_MS)
    })
    try {
      return await Promise.race([sql`select 1`.execute(db).then(() => true), timeout])
    } catch {
      return false
    } finally {
      clearTimeout(timer)
    }
  }
  return async (): Promise<boolean> => {
    if (now() - okAt < FRESH_MS) return true
    inFlight ??= ping().then((ok) => {
      inFlight = null
      if (ok) okAt = now()
      return ok
    })
    return inFlight
  }
}
