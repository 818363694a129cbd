import type { Config } from '../../config.js'
import { localBlobStore } from '../../platform/blobs/blob-store.js'
import { type JobHandler, runCity } from '../../platform/jobs/types.js'
import { findCityBySlug } from '../cities/index.js'
import { buildCityPack } from './pack-build.js'

/**
 * Runs after a successful publish in the same delivery (after the tile archive): the city's pack
 * gets a new version when its data changed, or keeps its latest. A failed build fails the run; its
 * retry publishes nothing twice (checkpointed) and builds again.
 */
export function thenBuildPack(publish: JobHandler, config: Config): JobHandler {
  return async (ctx) => {
    const outcome = await publish(ctx)
    if (outcome.status !== 'succeeded') return outcome
    const city = await findCityBySlug(ctx.db, runCity(ctx.run).citySlug)
    if (!city) return outcome
    const pack = await buildCityPack(ctx.db, localBlobStore(config.blobDir), city, {
      keep: config.packs.keepVersions,
    })
    const stats = { version: pack.version, reused: pack.reused, files: pack.files.length }
    ctx.log.info({ city: city.slug, ...stats }, 'city pack ready')
    return { ...outcome, stats: { ...outcome.stats, pack: stats } }
  }
}
