import type { JobContext } from '../../../platform/jobs/types.js'
import { isRelevant, RELEVANT_KEYS } from '../categories.js'
import { readOsmFile } from '../osm/read-osm-file.js'
import type { OsmFeature, OsmReadResult } from '../osm/types.js'
import type { Checkpoint } from './checkpoint.js'
import type { AreaTest } from './city-area.js'
import { fromRead } from './job-errors.js'
import { deleteItems, type ItemRow, insertItems, itemKey, unchangedKeys } from './staging-sql.js'
import type { TargetSpec } from './targets.js'

/**
 * Reads the fetched data once, streaming, and buffers the normalised records of the city in
 * `ingestion_run_item` (seq 1..kept), one transaction per batch. The phase is redone as a whole when
 * it is interrupted: it starts by deleting what an earlier attempt left.
 */
export async function itemsPhase(
  ctx: JobContext,
  spec: TargetSpec,
  args: { path: string; downloaded: boolean; area: AreaTest; batchSize: number },
): Promise<NonNullable<Checkpoint['items']>> {
  const { db, run } = ctx
  await deleteItems(db, run.id)
  let read: OsmReadResult
  try {
    read = await readOsmFile(args.path, { keep: isRelevant, keys: RELEVANT_KEYS })
  } catch (err) {
    throw fromRead(err, args.downloaded)
  }
  const iterator = read[Symbol.asyncIterator]()
  // Ids seen so far: one statement may not upsert the same key twice, and a source could repeat one.
  const seen = new Set<string>()
  let batch: ItemRow[] = []
  let kept = 0
  const flush = async () => {
    if (batch.length === 0) return
    const rows = batch
    batch = []
    // Content staging already holds is not buffered again: a re-import writes little more than ids.
    const same = await unchangedKeys(db, spec, run.cityId, rows)
    for (const row of rows) if (same.has(itemKey(row.osm_type, row.osm_id))) row.record = null
    // One statement per batch: atomic on its own, so a batch is in or out as a whole.
    await insertItems(db, run.id, kept - rows.length + 1, rows)
    await ctx.progress({ phase: 'items', done: kept })
  }
  for (;;) {
    let next: IteratorResult<OsmFeature>
    try {
      next = await iterator.next()
    } catch (err) {
      throw fromRead(err, args.downloaded)
    }
    if (next.done) break
    const feature = next.value
    if (!args.area.contains(feature.lon, feature.lat)) continue
    const record = spec.normalize(feature)
    if (record === null) continue
    const key = itemKey(record.osm_type, record.osm_id)
    if (seen.has(key)) continue
    seen.add(key)
    kept++
    batch.push({
      osm_type: record.osm_type,
      osm_id: record.osm_id,
      record: JSON.stringify(record),
      content_hash: record.content_hash,
    })
    if (batch.length >= args.batchSize) await flush()
  }
  await flush()
  const { nodes, ways, relations } = read.stats()
  return { read: { nodes, ways, relations }, kept, area_filter: args.area.filter }
}
