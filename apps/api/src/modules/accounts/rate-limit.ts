import { createHash } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import type { DB } from '../../platform/db/schema.js'

/**
 * Fixed-window counters in the database, so every instance (and a serverless function) counts the
 * same attempts. Keys are hashed: the table holds no address or code in the clear. Returns the seconds
 * to wait when any of the keys is over its limit, otherwise null. Old windows are pruned as it goes.
 */
export async function hitLimits(
  db: Kysely<DB>,
  keys: string[],
  opts: { limit: number; windowSeconds: number; now: Date },
): Promise<number | null> {
  const windowMs = opts.windowSeconds * 1000
  const start = new Date(Math.floor(opts.now.getTime() / windowMs) * windowMs)
  let over = false
  for (const key of keys) {
    const bucket = createHash('sha256').update(key).digest('base64url')
    const row = await db
      .insertInto('rate_limit_hit')
      .values({ bucket, window_start: start })
      .onConflict((oc) =>
        oc.columns(['bucket', 'window_start']).doUpdateSet({ hits: sql`rate_limit_hit.hits + 1` }),
      )
      .returning('hits')
      .executeTakeFirstOrThrow()
    if (row.hits > opts.limit) over = true
  }
  await db.deleteFrom('rate_limit_hit').where('window_start', '<', start).execute()
  if (!over) return null
  return Math.max(1, Math.ceil((start.getTime() + windowMs - opts.now.getTime()) / 1000))
}
