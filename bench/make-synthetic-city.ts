import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { osmium, osmiumAvailable } from './lib/osmium.js'
import { loadExtract, objectCount, writeTiledXml } from './lib/tile-osm.js'

/** Default source: the largest shared extract, beside the project root. */
export const DEFAULT_EXTRACT = resolve(
  import.meta.dirname,
  '../../shared/data/osm/moscow-shabolovka-2020.osm',
)

export interface SyntheticCity {
  xml: string
  pbf: string | null
  objects: number
  copies: number
}

/** Writes a synthetic city of at least `minObjects` OSM objects into a fresh temp dir. */
export async function makeSyntheticCity(
  minObjects: number,
  source = DEFAULT_EXTRACT,
): Promise<SyntheticCity> {
  const extract = await loadExtract(source)
  const perCopy = objectCount(extract)
  const copies = Math.max(1, Math.ceil(minObjects / perCopy))
  const dir = mkdtempSync(join(tmpdir(), 'gorod-synthetic-'))
  const xml = join(dir, `city-${copies}x.osm`)
  await writeTiledXml(extract, copies, xml)
  let pbf: string | null = null
  if (osmiumAvailable()) {
    pbf = join(dir, `city-${copies}x.osm.pbf`)
    osmium(['cat', xml, '-o', pbf, '--overwrite'])
  }
  return { xml, pbf, objects: perCopy * copies, copies }
}

if (import.meta.filename === process.argv[1]) {
  const minObjects = Number(process.argv[2] ?? 1_000_000)
  const city = await makeSyntheticCity(
    minObjects,
    process.argv[3] ? resolve(process.argv[3]) : DEFAULT_EXTRACT,
  )
  console.log(JSON.stringify(city, null, 2))
  if (!city.pbf) console.log('osmium not found (Debian package osmium-tool): wrote XML only')
}
