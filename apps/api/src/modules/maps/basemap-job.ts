import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { BlobStore } from '../../platform/blobs/blob-store.js'
import {
  type JobContext,
  type JobHandler,
  PermanentJobError,
  type RunSource,
  runCity,
} from '../../platform/jobs/types.js'
import { findCityBySlug } from '../cities/index.js'
import { detectExtractFormat } from '../ingestion/index.js'
import { enqueueRun, type JobDeps } from '../jobs/index.js'
import { blobInUse, findExtract, saveBasemap, saveExtract } from './basemap.queries.js'
import { type Bbox, mbtilesToPmtiles, requireBuilder, runTilemaker } from './basemap-build.js'

export interface BasemapDeps {
  blobs: BlobStore
  /** Scratch space; each run works in its own folder, removed when it ends. */
  workDir: string
  /** Where the builder is looked up (default: this process's environment). */
  env?: NodeJS.ProcessEnv
}

/**
 * The osm pipeline's `keepExtract`: a PBF that an osm run of a local file or an extract read goes
 * into the blob store as the city's extract, for the `tiles` run. Other formats are not kept
 * (tilemaker reads PBF only); the tiles run then fails saying so.
 */
export function extractKeeper(deps: Pick<BasemapDeps, 'blobs'>) {
  return async (ctx: JobContext, path: string): Promise<void> => {
    const source = ctx.run.source
    if (source.kind !== 'file' && source.kind !== 'extract') return
    if ((await detectExtractFormat(path)) !== 'pbf') {
      ctx.log.info({ runId: ctx.run.id }, 'extract is not a PBF: no basemap can be built from it')
      return
    }
    const stored = await deps.blobs.putFile(path)
    const replaced = await saveExtract(ctx.db, {
      city_id: runCity(ctx.run).cityId,
      sha256: stored.sha256,
      bytes: stored.bytes,
      source,
      run_id: ctx.run.id,
    })
    if (replaced && !(await blobInUse(ctx.db, replaced))) await deps.blobs.delete(replaced)
    ctx.log.info({ runId: ctx.run.id, sha256: stored.sha256, bytes: stored.bytes }, 'city extract kept')
  }
}

async function copyBlob(blobs: BlobStore, sha256: string, path: string): Promise<void> {
  const web = await blobs.read(sha256)
  await pipeline(Readable.fromWeb(web as WebReadableStream<Uint8Array>), createWriteStream(path))
}

/**
 * The `tiles` job: builds the city's offline basemap from its kept extract with tilemaker (the
 * project's OpenMapTiles profile, Russian names), converts the MBTiles to PMTiles clipped to the
 * city, stores it in the blob store and makes it the city's current basemap. No builder, no
 * extract, or an extract outside the city: FAILED with the reason, never an empty map.
 */
export function createTilesHandler(deps: BasemapDeps): JobHandler {
  return async (ctx) => {
    const done = ctx.run.checkpoint as { stats?: Record<string, unknown> } | null
    if (done && typeof done === 'object' && done.stats) return { status: 'succeeded', stats: done.stats }
    const { cityId, citySlug } = runCity(ctx.run)
    const city = await findCityBySlug(ctx.db, citySlug)
    if (!city) throw new PermanentJobError('CITY_NOT_FOUND', `city ${citySlug} not found`)
    const extract = await findExtract(ctx.db, cityId)
    if (!extract)
      throw new PermanentJobError(
        'BASEMAP_NO_EXTRACT',
        `city ${citySlug} has no OSM extract (PBF) to build a basemap from: run an osm ingestion ` +
          'from an extract or a local .osm.pbf file first',
      )
    if ((await deps.blobs.size(extract.sha256)) === null)
      throw new PermanentJobError(
        'BASEMAP_NO_EXTRACT',
        `the extract of ${citySlug} (${extract.sha256.slice(0, 12)}…) is no longer in the blob store: ` +
          'run the osm ingestion again',
      )
    const builder = await requireBuilder(deps.env)

    const dir = resolve(deps.workDir, ctx.run.id)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    try {
      await ctx.progress({ phase: 'extract' })
      const pbf = join(dir, 'city.osm.pbf')
      await copyBlob(deps.blobs, extract.sha256, pbf)
      const bbox: Bbox = [city.bbox_min_lon, city.bbox_min_lat, city.bbox_max_lon, city.bbox_max_lat]
      await ctx.progress({ phase: 'build', message: 'tilemaker' })
      const mbtiles = join(dir, 'city.mbtiles')
      const built = await runTilemaker(builder, { pbf, mbtiles, bbox, storeDir: dir }, ctx.signal)
      await ctx.heartbeat()
      await ctx.progress({ phase: 'convert', message: 'MBTiles → PMTiles' })
      const archive = mbtilesToPmtiles(mbtiles, { name: city.name_ru, bbox })
      const stored = await deps.blobs.putBytes(archive.bytes)
      await saveBasemap(ctx.db, {
        city_id: cityId,
        sha256: stored.sha256,
        bytes: stored.bytes,
        run_id: ctx.run.id,
        min_zoom: archive.minZoom,
        max_zoom: archive.maxZoom,
        bounds: archive.bounds,
        tile_count: archive.tileCount,
      })
      const stats = {
        basemap: {
          sha256: stored.sha256,
          bytes: stored.bytes,
          tiles: archive.tileCount,
          min_zoom: archive.minZoom,
          max_zoom: archive.maxZoom,
          bounds: archive.bounds,
          extract_sha256: extract.sha256,
          build_ms: Math.round(built.ms),
        },
      }
      await ctx.saveCheckpoint({ stats })
      ctx.log.info({ city: citySlug, ...stats.basemap }, 'basemap ready')
      return { status: 'succeeded', stats }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Sources a basemap can be built from: the osm run read a file the `tiles` run finds kept. */
export function basemapSource(run: { type: string; source: { kind: string } }): boolean {
  return run.type === 'osm' && (run.source.kind === 'file' || run.source.kind === 'extract')
}

/**
 * The `tiles` run after a successful osm run of a local file or an extract: same city, boundary
 * and date, so its key is `tiles|{city}|{boundary_ref}|{date}` and a repeated chain finds it.
 */
export function enqueueTiles(
  deps: JobDeps,
  osm: { citySlug: string; boundaryRef: string; runDate: string; source: RunSource },
) {
  return enqueueRun(deps, {
    type: 'tiles',
    city: osm.citySlug,
    boundaryRef: osm.boundaryRef,
    date: osm.runDate,
    source: osm.source,
    trigger: 'chain',
  })
}
