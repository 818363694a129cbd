import { type RawBuilder, sql } from 'kysely'
import type { ChangeState } from '../../platform/db/schema.js'

/**
 * A staged row's change state, derived in SQL from what the row keeps (ADR 009), relative to the
 * city's latest successful run of this type (the one that finished last):
 * - `missing`: the latest run that closed over the city did not see it (`missing_since` is set);
 * - `new` / `changed`: the run that last wrote its content (`last_changed_run`) is that run, or one
 *   that finished after it (failed part-way) or has not finished; `new` when that run inserted it;
 * - `unchanged`: a run has succeeded since, without having to write it.
 * A run that finds a row unchanged does not touch it, so a re-import of unchanged data writes no row.
 * `alias` names the staging table in the surrounding query; a few indexed lookups per row, for
 * listings, not for scans of a whole city.
 */
export function changeStateOf(alias: string, runType: 'osm' | 'helpers'): RawBuilder<ChangeState> {
  const s = sql.raw(alias)
  return sql<ChangeState>`CASE
    WHEN ${s}.missing_since IS NOT NULL THEN 'missing'
    WHEN coalesce((SELECT lc.finished_at FROM ingestion_run lc WHERE lc.id = ${s}.last_changed_run), 'infinity')
         >= coalesce((SELECT max(h.finished_at) FROM ingestion_run h
                      WHERE h.city_id = ${s}.city_id AND h.type = ${runType} AND h.status = 'SUCCEEDED'),
                     '-infinity')
      THEN CASE WHEN ${s}.first_seen_run = ${s}.last_changed_run THEN 'new' ELSE 'changed' END
    ELSE 'unchanged' END`
}
