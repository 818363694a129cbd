import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import { configFrom } from '../../src/config.js'
import { createIngestionHandlers } from '../../src/modules/ingestion/index.js'
import { createPublishHandler, type PublishStats } from '../../src/modules/publishing/index.js'
import type { DB } from '../../src/platform/db/schema.js'
import { createLogger } from '../../src/platform/log.js'
import { insertRunningRun, runToCompletion } from '../helpers/job-context.js'
import { osmFile } from '../helpers/osm-data.js'

export const LAVRA_XML = osmFile('sergiev-posad-lavra-2020.osm')
export const SHABOLOVKA_XML = osmFile('moscow-shabolovka-2020.osm')
export const LAVRA = { osm_type: 'way', osm_id: 219706573, wikidata: 'Q211962' }

/** Ingests a local OSM file for a city through the real `osm` handler, as the CLI would. */
export async function ingest(db: Kysely<DB>, path: string, citySlug = 'sergiev-posad') {
  const tmp = await mkdtemp(join(tmpdir(), 'gorod-publish-'))
  try {
    const config = configFrom({ WORK_DIR: join(tmp, 'work') })
    const { osm } = createIngestionHandlers({ config, log: createLogger('silent'), version: 'test' })
    const runId = await insertRunningRun(db, {
      citySlug,
      source: { kind: 'file', name: path.split('/').pop()! },
    })
    return await runToCompletion(db, osm, runId, { filePath: path })
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Runs the `publish` handler for a city to completion and returns its stats. */
export async function publish(
  db: Kysely<DB>,
  citySlug = 'sergiev-posad',
  opts: { batchSize?: number; shouldYield?: () => boolean } = {},
): Promise<{ stats: PublishStats; deliveries: number; runId: string }> {
  const runId = await insertRunningRun(db, { citySlug, type: 'publish' as 'osm' })
  const done = await runToCompletion(db, createPublishHandler({ batchSize: opts.batchSize ?? 100 }), runId, {
    ...(opts.shouldYield ? { shouldYield: opts.shouldYield } : {}),
  })
  return { stats: done.outcome.stats as unknown as PublishStats, deliveries: done.deliveries, runId }
}

/** Ingests helper places from a local OSM file through the real `helpers` handler. */
export async function ingestHelpers(db: Kysely<DB>, path: string, citySlug = 'sergiev-posad') {
  const tmp = await mkdtemp(join(tmpdir(), 'gorod-publish-'))
  try {
    const config = configFrom({ WORK_DIR: join(tmp, 'work') })
    const { helpers } = createIngestionHandlers({ config, log: createLogger('silent'), version: 'test' })
    const runId = await insertRunningRun(db, {
      citySlug,
      type: 'helpers',
      source: { kind: 'file', name: 'helpers' },
    })
    return await runToCompletion(db, helpers, runId, { filePath: path })
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
