import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pickAddress } from '../../src/modules/ingestion/address.js'
import { pickWebsite } from '../../src/modules/ingestion/contacts.js'
import { collectNames, isMostlyCyrillic, pickRussianName } from '../../src/modules/ingestion/names.js'
import { normalizeHelper, normalizePoi, type OsmFeature } from '../../src/modules/ingestion/normalize.js'
import { pickWikipedia } from '../../src/modules/ingestion/wikipedia.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { readOsmXml } from './osm-xml-elements.js'

// Real objects copied from the shared extracts (© OpenStreetMap contributors, ODbL).
const LAVRA: OsmFeature = {
  // sergiev-posad-lavra-2020.osm; position = centre of the way's bounding box
  type: 'way',
  id: 219706573,
  version: 19,
  timestamp: '2020-01-06T07:40:29Z',
  lat: 56.31072305,
  lon: 38.13017605,
  tags: {
    amenity: 'monastery',
    denomination: 'russian_orthodox',
    email: 'office@lavra.ru',
    heritage: '1',
    'heritage:operator': 'whc',
    historic: 'monastery',
    landuse: 'religious',
    name: 'Троице-Сергиева лавра',
    'name:de': 'Kloster der Dreifaltigkeit und des Heiligen Sergius',
    'name:en': 'Trinity Lavra of St. Sergius',
    'ref:temples.ru': '4825',
    religion: 'christian',
    start_date: '1340s',
    tourism: 'attraction',
    website: 'http://www.stsl.ru',
    wikidata: 'Q211962',
    wikipedia: 'ru:Троице-Сергиева лавра',
  },
}
const OSTANKINO_TOWER_TAGS = {
  // moscow-ostankino-2013.osm.gz: the older wikipedia:ru=Title form, with underscores
  man_made: 'tower',
  name: 'Останкинская телевизионная башня',
  'name:en': 'Ostankino Tower',
  tourism: 'attraction',
  website: 'http://www.tvtower.ru',
  'wikipedia:en': 'Ostankino_Tower',
  'wikipedia:ru': 'Останкинская_телебашня',
}
const PHARMACY: OsmFeature = {
  // sergiev-posad-lavra-2020.osm node 1335780224
  type: 'node',
  id: 1335780224,
  version: 5,
  timestamp: '2017-06-13T12:20:25Z',
  lat: 56.3129901,
  lon: 38.135475,
  tags: {
    'addr:housenumber': '148',
    'addr:postcode': '141300',
    'addr:street': 'проспект Красной Армии',
    amenity: 'pharmacy',
    name: 'Домашний доктор',
    opening_hours: 'Mo-Su 06:00-00:00',
    phone: '+7 (496) 547-17-63',
  },
}
const ATM: OsmFeature = {
  // moscow-shabolovka-2020.osm node 627937161: no name at all
  type: 'node',
  id: 627937161,
  version: 6,
  timestamp: '2019-03-14T21:05:10Z',
  lat: 55.7210845,
  lon: 37.6122111,
  tags: { amenity: 'atm', operator: 'Райффайзенбанк', website: 'https://www.raiffeisen.ru/' },
}

describe('normalizePoi on the Trinity Lavra', () => {
  const poi = normalizePoi(LAVRA)!

  it('gets its Russian name from `name` and keeps the other names for reference', () => {
    expect(poi.category).toBe('monastery')
    expect(poi.name_ru).toBe('Троице-Сергиева лавра')
    expect(poi.name_source).toBe('name')
    expect(poi.names['name:en']).toBe('Trinity Lavra of St. Sergius')
    expect(Object.keys(poi.names)).not.toContain('ref:temples.ru')
  })

  it('keeps wikidata, a normalised Wikipedia link, the website and the heritage listing', () => {
    expect(poi.wikidata).toBe('Q211962')
    expect(poi.wikipedia).toEqual({
      lang: 'ru',
      title: 'Троице-Сергиева лавра',
      url: `https://ru.wikipedia.org/wiki/${encodeURIComponent('Троице-Сергиева_лавра')}`,
    })
    expect(poi.website).toBe('http://www.stsl.ru/')
    expect(poi.heritage).toEqual({ heritage: '1', operator: 'whc', ref_okn: null })
  })

  it('carries its source and the ODbL licence', () => {
    expect(poi.source_url).toBe('https://www.openstreetmap.org/way/219706573')
    expect(poi).toMatchObject({
      osm_type: 'way',
      osm_id: 219706573,
      osm_version: 19,
      license: 'ODbL-1.0',
      attribution: '© OpenStreetMap contributors',
    })
    expect(poi.content_hash).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('names', () => {
  it('prefers name:ru, then a Cyrillic name, and gives null for a Latin-only name', () => {
    // moscow-shabolovka-2020.osm node 4488056289 has both; sergiev-posad node 6314019585 is Latin only
    expect(pickRussianName({ name: 'Самсон Фарма', 'name:ru': 'Самсон Фарма' }).name_source).toBe('name:ru')
    expect(pickRussianName({ name: 'Sergio Pizza', 'name:en': 'Sergio pizza' })).toEqual({
      name_ru: null,
      name_source: null,
    })
  })

  it('still normalises a POI whose name is Latin-only, with name_ru null (the publish gate decides)', () => {
    const tags = { ...OSTANKINO_TOWER_TAGS, name: OSTANKINO_TOWER_TAGS['name:en'] }
    const poi = normalizePoi({ ...LAVRA, type: 'way', id: 42418654, tags })!
    expect(poi.category).toBe('attraction')
    expect(poi.name_ru).toBeNull()
    expect(poi.names.name).toBe('Ostankino Tower')
  })

  it('counts letters only when deciding whether a name is Cyrillic', () => {
    expect(isMostlyCyrillic('Аптека №5')).toBe(true)
    expect(isMostlyCyrillic('DeVisu «У Шуховской башни»')).toBe(true)
    expect(isMostlyCyrillic('A.V.E.')).toBe(false)
    expect(isMostlyCyrillic('12/3')).toBe(false)
  })

  it('normalises whitespace, NBSP and zero-width characters', () => {
    expect(pickRussianName({ name: '  Сергий\u00a0 Радонежский\u200b ' }).name_ru).toBe('Сергий Радонежский')
  })

  it('keeps name-like tags but not references that happen to start with name', () => {
    const names = collectNames({
      name: 'А',
      alt_name: 'Б',
      'old_name:en': 'C',
      'name:etymology:wikidata': 'Q1',
    })
    expect(names).toEqual({ alt_name: 'Б', name: 'А', 'old_name:en': 'C' })
  })
})

describe('wikipedia', () => {
  it('normalises the old wikipedia:ru=Title form exactly like wikipedia=ru:Title', () => {
    const old = pickWikipedia(OSTANKINO_TOWER_TAGS)
    const current = pickWikipedia({ wikipedia: 'ru:Останкинская телебашня' })
    expect(old).toEqual(current)
    expect(old?.title).toBe('Останкинская телебашня')
    expect(old?.url).toBe(`https://ru.wikipedia.org/wiki/${encodeURIComponent('Останкинская_телебашня')}`)
  })

  it('prefers the Russian article and ignores values that are not links', () => {
    expect(
      pickWikipedia({ wikipedia: 'en:Ostankino Tower', 'wikipedia:ru': 'Останкинская телебашня' })?.lang,
    ).toBe('ru')
    expect(pickWikipedia({ wikipedia: 'en:Ostankino Tower' })?.lang).toBe('en')
    expect(pickWikipedia({ wikipedia: 'Останкинская телебашня' })).toBeNull()
  })
})

describe('contacts and address', () => {
  it('fixes a scheme-less website and drops what is not a web link', () => {
    // moscow-shabolovka-2020.osm node 5069491453 has website=www.blanc-de-blancs.ru
    expect(pickWebsite({ website: 'www.blanc-de-blancs.ru' })).toBe('http://www.blanc-de-blancs.ru/')
    expect(pickWebsite({ 'contact:website': 'https://psbank.ru/' })).toBe('https://psbank.ru/')
    expect(pickWebsite({ website: 'javascript:alert(1)' })).toBeNull()
  })

  it('builds a structured address and a Russian one-line form', () => {
    expect(pickAddress(PHARMACY.tags)).toEqual({
      street: 'проспект Красной Армии',
      housenumber: '148',
      city: null,
      postcode: '141300',
      line_ru: 'проспект Красной Армии, 148, 141300',
    })
    expect(pickAddress({ amenity: 'toilets' })).toBeNull()
  })
})

describe('normalizeHelper', () => {
  it('normalises a real pharmacy with name, hours, phone and address', () => {
    const helper = normalizeHelper(PHARMACY)!
    expect(helper).toMatchObject({
      kind: 'pharmacy',
      name: 'Домашний доктор',
      name_source: 'name',
      opening_hours: 'Mo-Su 06:00-00:00',
      phone: '+7 (496) 547-17-63',
      source_url: 'https://www.openstreetmap.org/node/1335780224',
      license: 'ODbL-1.0',
    })
    expect(helper.address?.line_ru).toBe('проспект Красной Армии, 148, 141300')
  })

  it('keeps a nameless ATM and says whose it is', () => {
    const helper = normalizeHelper(ATM)!
    expect(helper.kind).toBe('atm')
    expect(helper.name).toBeNull()
    expect(helper.operator).toBe('Райффайзенбанк')
  })

  it('returns null for objects that are not helpers and for unusable positions', () => {
    expect(normalizeHelper(LAVRA)).toBeNull()
    expect(normalizePoi(PHARMACY)).toBeNull()
    expect(normalizeHelper({ ...ATM, lat: Number.NaN })).toBeNull()
  })
})

const shuffledEntries = (tags: Record<string, string>) =>
  fc.shuffledSubarray(Object.entries(tags), { minLength: Object.keys(tags).length })

describe('content hash', () => {
  it('does not depend on the order of the tags', () => {
    fc.assert(
      fc.property(shuffledEntries(LAVRA.tags), (entries) => {
        const reordered = normalizePoi({ ...LAVRA, tags: Object.fromEntries(entries) })!
        expect(reordered.content_hash).toBe(normalizePoi(LAVRA)!.content_hash)
      }),
    )
  })

  it('changes when any tag value changes, a tag is added, or the object moves or gets a new version', () => {
    const base = normalizePoi(LAVRA)!.content_hash
    const keys = Object.keys(LAVRA.tags)
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.string({ minLength: 1 }), (key, suffix) => {
        const changed = normalizePoi({
          ...LAVRA,
          tags: { ...LAVRA.tags, [key]: `${LAVRA.tags[key]}${suffix}` },
        })
        // Some edits could in principle stop the object being a POI; only records are compared.
        if (changed) expect(changed.content_hash).not.toBe(base)
      }),
    )
    expect(normalizePoi({ ...LAVRA, tags: { ...LAVRA.tags, fee: 'no' } })!.content_hash).not.toBe(base)
    expect(normalizePoi({ ...LAVRA, lat: LAVRA.lat + 1e-6 })!.content_hash).not.toBe(base)
    expect(normalizePoi({ ...LAVRA, version: 20 })!.content_hash).not.toBe(base)
  })

  it('ignores coordinate noise below OSM precision (1e-7 degrees)', () => {
    const base = normalizePoi(LAVRA)!.content_hash
    expect(normalizePoi({ ...LAVRA, lat: LAVRA.lat + 1e-10 })!.content_hash).toBe(base)
  })
})

describeWithOsmData('normalisation over a whole extract', () => {
  it('normalises every POI and helper of Sergiev Posad with a source and most POIs with a Russian name', () => {
    const pois = []
    const helpers = []
    for (const feature of readOsmXml(osmFile('sergiev-posad-lavra-2020.osm'))) {
      const poi = normalizePoi(feature)
      const helper = normalizeHelper(feature)
      if (poi) pois.push(poi)
      if (helper) helpers.push(helper)
    }
    expect(pois.length).toBeGreaterThan(30)
    expect(helpers.length).toBeGreaterThan(20)
    for (const record of [...pois, ...helpers]) {
      expect(record.source_url).toBe(`https://www.openstreetmap.org/${record.osm_type}/${record.osm_id}`)
      expect(record.license).toBe('ODbL-1.0')
    }
    const lavra = pois.find((poi) => poi.wikidata === 'Q211962')
    expect(lavra?.name_ru).toBe('Троице-Сергиева лавра')
    const named = pois.filter((poi) => poi.name_ru !== null).length
    expect(named / pois.length).toBeGreaterThan(0.8)
    expect(new Set(pois.map((poi) => poi.content_hash)).size).toBe(pois.length)
  })
})
