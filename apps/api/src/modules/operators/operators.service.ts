import type { Kysely } from 'kysely'
import type { DB } from '../../platform/db/schema.js'

/** One page of recorded operator actions, newest first, one row more than asked to tell if more follow. */
export async function listActions(
  db: Kysely<DB>,
  f: { operator?: string | undefined; before?: number | undefined; limit: number },
) {
  let q = db
    .selectFrom('admin_action')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
  if (f.operator) q = q.where('operator', '=', f.operator)
  if (f.before !== undefined) q = q.where('id', '<', f.before)
  return q.execute()
}
