import { type JobHandler, runCity } from '../../platform/jobs/types.js'
import { findCityBySlug } from '../cities/index.js'
import { buildCityTiles } from './tiles.service.js'

/**
 * Runs after every successful publish in the same delivery: the city's tile archive is rebuilt for
 * the data version the publish left (or found already built). A build failure fails the run, so a
 * retry publishes nothing twice (publish is checkpointed) and builds again.
 */
export function thenBuildTiles(publish: JobHandler): JobHandler {
  return async (ctx) => {
    const outcome = await publish(ctx)
    if (outcome.status !== 'succeeded') return outcome
    const city = await findCityBySlug(ctx.db, runCity(ctx.run).citySlug)
    if (!city) return outcome
    const { build, reused, ms } = await buildCityTiles(ctx.db, {
      id: city.id,
      bbox: [city.bbox_min_lon, city.bbox_min_lat, city.bbox_max_lon, city.bbox_max_lat],
    })
    const tiles = {
      build_id: build.id,
      tiles: build.tile_count,
      bytes: build.bytes,
      reused,
      ms: Math.round(ms),
    }
    ctx.log.info({ city: city.slug, ...tiles }, 'tile archive ready')
    return { ...outcome, stats: { ...outcome.stats, tiles } }
  }
}
