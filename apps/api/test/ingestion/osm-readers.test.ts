import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, expect, it } from 'vitest'
import {
  type OsmFeature,
  type OsmReadOptions,
  OverpassRemarkError,
  pointInBoundary,
  pointInRing,
  readOsmFile,
} from '../../src/modules/ingestion/osm/index.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'

const TOURISM_KEYS = ['tourism', 'historic', 'amenity']
const tourism = (t: Record<string, string>) => TOURISM_KEYS.some((k) => k in t)

async function readAll(path: string, opts: OsmReadOptions = { keep: tourism }) {
  const read = await readOsmFile(path, opts)
  const features: OsmFeature[] = []
  for await (const f of read) features.push(f)
  return { features, stats: read.stats(), boundary: read.boundary() }
}

const keyOf = (f: OsmFeature) => `${f.type}/${f.id}`

const PAIRS = [
  ['sergiev-posad-lavra-2020.osm', 'sergiev-posad-lavra-2020.osm.pbf'],
  ['moscow-ostankino-2013.osm.gz', 'moscow-ostankino-2013.osm.pbf'],
  ['moscow-shabolovka-2020.osm', 'moscow-shabolovka-2020.osm.pbf'],
] as const

function xmlText(name: string): string {
  const raw = readFileSync(osmFile(name))
  return (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')
}

const scratch = mkdtempSync(join(tmpdir(), 'gorod-osm-readers-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function writeScratch(name: string, content: string | Buffer): string {
  const path = join(scratch, name)
  writeFileSync(path, content)
  return path
}

describeWithOsmData('OSM file readers on the real extracts', () => {
  it.each(PAIRS)('%s and %s yield the same features', async (xmlName, pbfName) => {
    const xml = await readAll(osmFile(xmlName))
    const pbf = await readAll(osmFile(pbfName))
    expect(xml.features.length).toBeGreaterThan(50)
    expect(pbf.features.map(keyOf).sort()).toEqual(xml.features.map(keyOf).sort())
    const byKey = new Map(pbf.features.map((f) => [keyOf(f), f]))
    for (const x of xml.features) {
      const p = byKey.get(keyOf(x))!
      expect({ ...p, lat: 0, lon: 0 }).toEqual({ ...x, lat: 0, lon: 0 })
      expect(Math.abs(p.lat - x.lat)).toBeLessThan(1e-7)
      expect(Math.abs(p.lon - x.lon)).toBeLessThan(1e-7)
    }
    expect(pbf.stats).toEqual(xml.stats)
  })

  it.each(PAIRS)('counts of %s match an independent count of its XML', async (xmlName, pbfName) => {
    const text = xmlText(xmlName)
    const expected = {
      nodes: text.match(/<node /g)?.length,
      ways: text.match(/<way /g)?.length,
      relations: text.match(/<relation /g)?.length,
    }
    for (const name of [xmlName, pbfName]) {
      const { features, stats } = await readAll(osmFile(name))
      expect({ nodes: stats.nodes, ways: stats.ways, relations: stats.relations }).toEqual(expected)
      expect(stats.kept).toBe(features.length)
    }
  })

  it('yields only objects whose tags pass keep, and the keys prefilter changes nothing', async () => {
    const all = await readAll(osmFile('moscow-shabolovka-2020.osm.pbf'))
    expect(all.features.every((f) => tourism(f.tags))).toBe(true)
    const filtered = await readAll(osmFile('moscow-shabolovka-2020.osm.pbf'), {
      keep: tourism,
      keys: TOURISM_KEYS,
    })
    expect(filtered.features).toEqual(all.features)
    const xmlFiltered = await readAll(osmFile('moscow-shabolovka-2020.osm'), {
      keep: tourism,
      keys: TOURISM_KEYS,
    })
    expect(xmlFiltered.features.map(keyOf).sort()).toEqual(all.features.map(keyOf).sort())
  })

  it.each(['sergiev-posad-lavra-2020.osm', 'sergiev-posad-lavra-2020.osm.pbf'])(
    '%s: the Trinity Lavra comes out with its tags, positioned inside its walls',
    async (name) => {
      const { features } = await readAll(osmFile(name))
      const lavra = features.filter((f) => f.tags.wikidata === 'Q211962')
      expect(lavra).toHaveLength(1)
      const f = lavra[0]!
      expect(f.tags.name).toBe('Троице-Сергиева лавра')
      expect(f.tags.historic).toBe('monastery')
      expect(f.version).toBe(19)
      expect(f.timestamp).toBe('2020-01-06T07:40:29Z')
      expect(f.position).toBe('centroid')
      expect(Math.abs(f.lat - 56.31)).toBeLessThan(0.003)
      expect(Math.abs(f.lon - 38.13)).toBeLessThan(0.005)
    },
  )

  it('positions a closed way at its area centroid, an open way at its bbox centre', async () => {
    const { features } = await readAll(osmFile('sergiev-posad-lavra-2020.osm'), { keep: () => true })
    const ways = features.filter((f) => f.type === 'way')
    expect(ways.some((f) => f.position === 'centroid')).toBe(true)
    expect(ways.some((f) => f.position === 'bbox_center')).toBe(true)
    expect(features.filter((f) => f.type === 'node').every((f) => f.position === 'node')).toBe(true)
  })

  it('assembles a multipolygon relation with a hole as the boundary', async () => {
    const { boundary, features } = await readAll(osmFile('sergiev-posad-lavra-2020.osm.pbf'), {
      keep: (t) => t.type === 'multipolygon',
      boundaryRelationId: 3506108,
    })
    expect(boundary).toHaveLength(1)
    const [polygon] = boundary!
    expect(polygon!.holes).toHaveLength(1)
    const rel = features.find((f) => f.type === 'relation' && f.id === 3506108)!
    expect(pointInRing(rel.lon, rel.lat, polygon!.outer)).toBe(true)
    const [hx, hy] = polygon!.holes[0]!.reduce(([sx, sy], [x, y]) => [sx + x, sy + y], [0, 0])
    const n = polygon!.holes[0]!.length
    expect(pointInBoundary(hx / n, hy / n, boundary!)).toBe(false)
    const absent = await readAll(osmFile('moscow-shabolovka-2020.osm.pbf'), {
      keep: tourism,
      boundaryRelationId: 102269,
    })
    expect(absent.boundary).toBeNull()
  })

  it.each(['sergiev-posad-lavra-2020', 'moscow-ostankino-2013', 'moscow-shabolovka-2020'])(
    'Overpass JSON %s yields the ids the file lists',
    async (base) => {
      const name = `${base}.pois.DERIVED-overpass-shape.json`
      const listed = JSON.parse(readFileSync(osmFile(name), 'utf8')) as {
        elements: { type: string; id: number; tags: Record<string, string> }[]
      }
      const { features, stats } = await readAll(osmFile(name), { keep: () => true })
      expect(features.map(keyOf).sort()).toEqual(listed.elements.map((e) => `${e.type}/${e.id}`).sort())
      expect(features.filter((f) => f.type !== 'node').every((f) => f.position === 'center')).toBe(true)
      expect(stats.nodes + stats.ways + stats.relations).toBe(listed.elements.length)
      const fromFile = new Map(
        (await readAll(osmFile(`${base}.osm.pbf`), { keep: () => true })).features.map((f) => [keyOf(f), f]),
      )
      for (const f of features) expect(fromFile.get(keyOf(f))?.tags).toEqual(f.tags)
    },
  )
})

describeWithOsmData('OSM readers reject broken input', () => {
  const drain = async (path: string) => {
    const got: OsmFeature[] = []
    for await (const f of await readOsmFile(path, { keep: () => true })) got.push(f)
    return got
  }

  it('an Overpass runtime-error remark throws OverpassRemarkError after the partial elements', async () => {
    const doc = JSON.parse(
      readFileSync(osmFile('moscow-ostankino-2013.pois.DERIVED-overpass-shape.json'), 'utf8'),
    )
    doc.remark = 'runtime error: Query timed out in "query" at line 3 after 26 seconds.'
    const path = writeScratch('remark.json', JSON.stringify(doc))
    const seen: OsmFeature[] = []
    const read = await readOsmFile(path, { keep: () => true })
    const error = await (async () => {
      for await (const f of read) seen.push(f)
    })().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OverpassRemarkError)
    expect((error as OverpassRemarkError).remark).toMatch(/^runtime error: Query timed out/)
    expect(seen.length).toBe(doc.elements.length)
  })

  it('a harmless remark does not throw', async () => {
    const path = writeScratch(
      'ok-remark.json',
      JSON.stringify({ version: 0.6, elements: [], remark: 'no data' }),
    )
    await expect(drain(path)).resolves.toEqual([])
  })

  it.each([
    ['json', 'moscow-ostankino-2013.pois.DERIVED-overpass-shape.json'],
    ['xml', 'sergiev-posad-lavra-2020.osm'],
    ['gz', 'moscow-ostankino-2013.osm.gz'],
    ['pbf', 'sergiev-posad-lavra-2020.osm.pbf'],
  ])('a truncated %s file rejects the iteration', async (kind, name) => {
    const raw = readFileSync(osmFile(name))
    for (const share of [0.3, 0.7, 0.97]) {
      const path = writeScratch(`cut-${share}-${name}`, raw.subarray(0, Math.floor(raw.length * share)))
      await expect(drain(path), `${kind} cut at ${share}`).rejects.toThrow()
    }
  })
})
