import type { Config } from '../../config.js'
import { localBlobStore } from '../../platform/blobs/blob-store.js'
import { type JobHandler, runCity } from '../../platform/jobs/types.js'
import { findCityBySlug } from '../cities/index.js'
import { findBasemap } from '../maps/index.js'
import { buildCityPack, PMTILES } from './pack-build.js'

/**
 * Runs after a successful publish (after the tile archive) or basemap build, in the same delivery:
 * the city's pack gets a new version when its data or its basemap changed, or keeps its latest. A failed build fails the run; its
 * retry publishes nothing twice (checkpointed) and builds again.
 */
export function thenBuildPack(publish: JobHandler, config: Config): JobHandler {
  return async (ctx) => {
    const outcome = await publish(ctx)
    if (outcome.status !== 'succeeded') return outcome
    const city = await findCityBySlug(ctx.db, runCity(ctx.run).citySlug)
    if (!city) return outcome
    const basemap = await findBasemap(ctx.db, city.id)
    const pack = await buildCityPack(ctx.db, localBlobStore(config.blobDir), city, {
      keep: config.packs.keepVersions,
      extraFiles: basemap
        ? [
            {
              role: 'basemap',
              sha256: basemap.sha256,
              bytes: basemap.bytes,
              media_type: PMTILES,
            },
          ]
        : [],
    })
    const stats = { version: pack.version, reused: pack.reused, files: pack.files.length }
    ctx.log.info({ city: city.slug, ...stats }, 'city pack ready')
    return { ...outcome, stats: { ...outcome.stats, pack: stats } }
  }
}
