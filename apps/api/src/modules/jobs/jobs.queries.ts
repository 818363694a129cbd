import { type Kysely, sql } from 'kysely'
import type { DB, RunStatus } from '../../platform/db/schema.js'
import type { RunRow } from './run-view.js'

function runs(db: Kysely<DB>) {
  return (
    db
      .selectFrom('ingestion_run as r')
      // Runs without a city (account purges) are listed too: their city is null.
      .leftJoin('cities as c', 'c.id', 'r.city_id')
      .selectAll('r')
      .select('c.slug as city_slug')
      // Microsecond-exact, so a keyset cursor never skips or repeats runs created in the same millisecond.
      .select(
        sql<string>`to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
          'created_cursor',
        ),
      )
  )
}

export function findRun(db: Kysely<DB>, id: string): Promise<RunRow | undefined> {
  return runs(db).where('r.id', '=', id).executeTakeFirst()
}

export function findRunByKey(db: Kysely<DB>, key: string): Promise<RunRow | undefined> {
  return runs(db).where('r.idempotency_key', '=', key).executeTakeFirst()
}

export interface RunFilter {
  status?: RunStatus
  type?: string
  city?: string
  /** Keyset cursor: list what comes after (created_at, id) in newest-first order. */
  after?: { createdAt: string; id: string }
  limit: number
}

export function listRuns(db: Kysely<DB>, f: RunFilter): Promise<RunRow[]> {
  let q = runs(db)
  if (f.status) q = q.where('r.status', '=', f.status)
  if (f.type) q = q.where('r.type', '=', f.type)
  if (f.city) q = q.where('c.slug', '=', f.city)
  if (f.after) {
    const { createdAt, id } = f.after
    q = q.where(sql<boolean>`(r.created_at, r.id) < (${createdAt}::timestamptz, ${id}::uuid)`)
  }
  return q.orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').limit(f.limit).execute()
}
