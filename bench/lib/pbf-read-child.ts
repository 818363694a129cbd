import { readOsmFile } from '../../apps/api/src/modules/ingestion/osm/index.js'

/**
 * Reads one file with the tourism predicate and prints its figures as JSON. Runs in a child process
 * so that maxRSS is the reader's own peak, not the benchmark's.
 */
export const TOURISM_KEYS = ['tourism', 'historic', 'amenity'] as const
const VALUES = new Set([
  'attraction',
  'museum',
  'viewpoint',
  'artwork',
  'gallery',
  'zoo',
  'theme_park',
  'monument',
  'memorial',
  'castle',
  'monastery',
  'ruins',
  'church',
  'manor',
  'archaeological_site',
  'place_of_worship',
  'theatre',
  'arts_centre',
  'cinema',
  'library',
  'fountain',
  'planetarium',
])

export const keepTourism = (tags: Record<string, string>): boolean =>
  TOURISM_KEYS.some((k) => {
    const v = tags[k]
    return v !== undefined && (k === 'historic' || VALUES.has(v))
  })

if (import.meta.filename === process.argv[1]) {
  const path = process.argv[2]!
  const usePrefilter = process.argv[3] !== 'no-prefilter'
  const rssBefore = process.resourceUsage().maxRSS
  const started = process.hrtime.bigint()
  const read = await readOsmFile(path, { keep: keepTourism, ...(usePrefilter ? { keys: TOURISM_KEYS } : {}) })
  let features = 0
  for await (const _ of read) features++
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const s = read.stats()
  const objects = s.nodes + s.ways + s.relations
  console.log(
    JSON.stringify({
      objects,
      features,
      unresolved: s.unresolved,
      seconds,
      objectsPerSecond: Math.round(objects / seconds),
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      startupRssMB: Math.round(rssBefore / 1024),
    }),
  )
}
