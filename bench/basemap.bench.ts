import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Bbox,
  findBuilder,
  mbtilesToPmtiles,
  runTilemaker,
} from '../apps/api/src/modules/maps/basemap-build.js'
import { OSM_DATA_DIR } from '../apps/api/test/helpers/osm-data.js'
import { round } from './lib/service.js'

/** Moscow's box as the seed has it: the basemap is clipped to it. */
const MOSCOW_BBOX: Bbox = [36.803, 55.1421, 37.9674, 56.0212]
const EXTRACTS = ['moscow-shabolovka-2020.osm.pbf', 'moscow-ostankino-2013.osm.pbf']

/**
 * The basemap build of the `tiles` job on the Moscow extracts: tilemaker (the project profile) to
 * MBTiles, then MBTiles to PMTiles clipped to the city. Times and sizes; no database.
 */
export async function run() {
  const builder = await findBuilder()
  if (!builder) throw new Error('tilemaker is not on PATH: install the Debian package "tilemaker"')
  const out: Record<string, unknown> = {}
  for (const name of EXTRACTS) {
    const dir = await mkdtemp(join(tmpdir(), 'gorod-basemap-bench-'))
    try {
      const pbf = join(OSM_DATA_DIR, name)
      const mbtiles = join(dir, 'city.mbtiles')
      const built = await runTilemaker(
        builder,
        { pbf, mbtiles, bbox: MOSCOW_BBOX, storeDir: dir },
        new AbortController().signal,
      )
      const started = performance.now()
      const archive = mbtilesToPmtiles(mbtiles, { name: 'Москва', bbox: MOSCOW_BBOX })
      const convertMs = performance.now() - started
      out[name] = {
        extract_kb: round((await stat(pbf)).size / 1e3),
        tilemaker_ms: round(built.ms),
        convert_ms: round(convertMs),
        mbtiles_kb: round((await stat(mbtiles)).size / 1e3),
        pmtiles_kb: round(archive.bytes.length / 1e3),
        tiles: archive.tileCount,
        zooms: `${archive.minZoom}–${archive.maxZoom}`,
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  return out
}
