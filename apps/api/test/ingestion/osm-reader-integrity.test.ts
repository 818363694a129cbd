import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PbfWriter } from 'pbf'
import { afterAll, describe, expect, it } from 'vitest'
import { type OsmFeature, OsmFormatError, readOsmFile } from '../../src/modules/ingestion/osm/index.js'

/** Inputs that used to be read "successfully" into wrong data: deleted objects, NaN positions, history. */

const scratch = mkdtempSync(join(tmpdir(), 'gorod-osm-integrity-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let files = 0
function scratchFile(ext: string, content: string | Uint8Array): string {
  const path = join(scratch, `f${files++}${ext}`)
  writeFileSync(path, content)
  return path
}

async function readAll(path: string): Promise<OsmFeature[]> {
  const out: OsmFeature[] = []
  for await (const f of await readOsmFile(path, { keep: () => true })) out.push(f)
  return out
}

const osmXml = (body: string) =>
  `<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='JOSM'>\n${body}\n</osm>\n`
const museum = (attrs: string) => `<node ${attrs}><tag k='tourism' v='museum'/></node>`

describe('OSM XML: objects a file marks as deleted', () => {
  it('leaves out what JOSM marks action=delete or visible=false, in every pass', async () => {
    const path = scratchFile(
      '.osm',
      osmXml(
        [
          museum(`id='1' action='delete' lat='55.75' lon='37.61'`),
          museum(`id='2' visible='false' lat='55.75' lon='37.61'`),
          museum(`id='3' visible='true' lat='55.75' lon='37.61'`),
          `<node id='4' lat='55.70' lon='37.60'/><node id='5' action='delete' lat='56.9' lon='38.9'/>`,
          `<node id='6' lat='55.71' lon='37.61'/>`,
          // The deleted node 5 must not stretch the way's position even if a stale ref remains.
          `<way id='7'><nd ref='4'/><nd ref='5'/><nd ref='6'/><tag k='historic' v='wall'/></way>`,
        ].join('\n'),
      ),
    )
    const features = await readAll(path)
    expect(features.map((f) => `${f.type}/${f.id}`)).toEqual(['node/3', 'way/7'])
    const way = features[1]!
    expect(way.lat).toBeCloseTo(55.705, 9)
    expect(way.lon).toBeCloseTo(37.605, 9)
  })
})

describe('OSM XML: malformed values fail the read instead of becoming NaN', () => {
  it.each([
    ['a node without lat', museum(`id='1' lon='37.61'`)],
    ['a node with lat out of range', museum(`id='1' lat='95' lon='37.61'`)],
    ['a node with a non-numeric lon', museum(`id='1' lat='55.7' lon='east'`)],
    ['an element without id', museum(`lat='55.7' lon='37.6'`)],
    ['a way with a bad nd ref', `<way id='1'><nd ref='x'/><tag k='historic' v='wall'/></way>`],
    [
      'a relation member of an unknown type',
      `<relation id='1'><member type='area' ref='1' role=''/><tag k='type' v='site'/></relation>`,
    ],
    ['broken XML', `<node id='1' lat='55.7' lon='37.6'><tag k='tourism' v='museum'></node>`],
  ])('%s', async (_, body) => {
    await expect(readAll(scratchFile('.osm', osmXml(body)))).rejects.toBeInstanceOf(OsmFormatError)
  })
})

describe('history files (several versions of one object) are refused, not flattened', () => {
  it('OSM XML with consecutive versions of the same node', async () => {
    const body = [
      museum(`id='10' version='1' visible='true' lat='55.75' lon='37.61'`),
      museum(`id='10' version='2' visible='true' lat='55.7501' lon='37.6101'`),
      `<node id='10' version='3' visible='false'/>`,
    ].join('\n')
    await expect(readAll(scratchFile('.osm', osmXml(body)))).rejects.toThrow(/history/i)
  })

  it('OSM PBF whose header requires HistoricalInformation', async () => {
    const path = scratchFile('.osm.pbf', pbfFile(['OsmSchema-V0.6', 'DenseNodes', 'HistoricalInformation']))
    await expect(readAll(path)).rejects.toThrow(/HistoricalInformation/)
    // The same file without the feature flag reads: the refusal is about history, not the fixture.
    const plain = scratchFile('.osm.pbf', pbfFile(['OsmSchema-V0.6', 'DenseNodes']))
    expect((await readAll(plain)).map((f) => [f.id, f.lat, f.lon, f.tags])).toEqual([
      [10, 55.75, 37.61, { tourism: 'museum' }],
    ])
  })
})

/** A minimal PBF: an OSMHeader blob with `features`, then one data blob holding a single tagged node. */
function pbfFile(features: string[]): Uint8Array {
  const message = (write: (w: PbfWriter) => void): Uint8Array => {
    const w = new PbfWriter()
    write(w)
    return w.finish()
  }
  const blob = (type: string, payload: Uint8Array): Uint8Array[] => {
    const body = message((w) => {
      w.writeBytesField(1, payload)
      w.writeVarintField(2, payload.length)
    })
    const header = message((w) => {
      w.writeStringField(1, type)
      w.writeVarintField(3, body.length)
    })
    const size = new Uint8Array(4)
    new DataView(size.buffer).setUint32(0, header.length)
    return [size, header, body]
  }
  const headerBlock = message((w) => {
    for (const f of features) w.writeStringField(4, f)
  })
  const node = message((w) => {
    w.writeSVarintField(1, 10)
    w.writePackedVarint(2, [1])
    w.writePackedVarint(3, [2])
    w.writeSVarintField(8, 557500000)
    w.writeSVarintField(9, 376100000)
  })
  const primitiveBlock = message((w) => {
    w.writeBytesField(
      1,
      message((s) => {
        for (const text of ['', 'tourism', 'museum']) s.writeBytesField(1, new TextEncoder().encode(text))
      }),
    )
    w.writeBytesField(
      2,
      message((g) => g.writeBytesField(1, node)),
    )
  })
  return Buffer.concat([...blob('OSMHeader', headerBlock), ...blob('OSMData', primitiveBlock)])
}
