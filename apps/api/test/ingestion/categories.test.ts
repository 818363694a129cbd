import { describe, expect, it } from 'vitest'
import {
  classifyHelper,
  classifyPoi,
  HELPER_KIND_RULES,
  HELPER_KINDS,
  isRelevant,
  POI_CATEGORIES,
  POI_CATEGORY_RULES,
  RELEVANT_KEYS,
} from '../../src/modules/ingestion/categories.js'
import { isMostlyCyrillic } from '../../src/modules/ingestion/names.js'
import type { TagSelector } from '../../src/modules/ingestion/tag-selector.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { readOsmXml } from './osm-xml-elements.js'

// Real tag objects copied from the shared extracts (© OpenStreetMap contributors, ODbL).
const LAVRA = {
  // sergiev-posad-lavra-2020.osm, way 219706573
  amenity: 'monastery',
  denomination: 'russian_orthodox',
  heritage: '1',
  'heritage:operator': 'whc',
  historic: 'monastery',
  landuse: 'religious',
  name: 'Троице-Сергиева лавра',
  'name:en': 'Trinity Lavra of St. Sergius',
  religion: 'christian',
  tourism: 'attraction',
  wikidata: 'Q211962',
  wikipedia: 'ru:Троице-Сергиева лавра',
}
const SHUKHOV_TOWER = {
  // moscow-shabolovka-2020.osm, relation 1453198
  building: 'yes',
  'building:architecture': 'constructivism',
  height: '148',
  man_made: 'tower',
  name: 'Шуховская башня',
  'name:en': 'Shukhov Tower',
  'name:ru': 'Шуховская башня',
  start_date: '1920..1922',
  tourism: 'attraction',
}
const MANOR = {
  // moscow-shabolovka-2020.osm, way 55924290
  heritage: '2',
  historic: 'manor',
  name: 'Городская усадьба П. П. Игнатьевой – Н. А. Белкина',
  tourism: 'attraction',
  wikidata: 'Q19908709',
}
const CHURCH_WITHOUT_RELIGION = {
  // moscow-shabolovka-2020.osm, way 46934105: denomination but no religion tag
  amenity: 'place_of_worship',
  building: 'church',
  denomination: 'russian_orthodox',
  name: 'Храм Вознесения Господня за Серпуховскими воротами',
}
const CHEESE_MONUMENT = {
  // moscow-ostankino-2013.osm.gz, node 1126133883
  historic: 'monument',
  name: 'Памятник плавленому сырку «Дружба» («Ворона и Лисица»)',
  tourism: 'attraction',
}
const UNNAMED_OBELISK = {
  // sergiev-posad-lavra-2020.osm, node 428886081
  description: 'Обелиск в ознаменование заслуг Троице-Сергиева монастыря перед Россией',
  historic: 'memorial',
}
const PRIVATE_GARDEN_PARK = { access: 'private', leisure: 'park', name: 'Пафнутьев сад' } // way 35219725
const TOILET = { amenity: 'toilets', fee: 'no' } // sergiev-posad, node 6611549371
const PHARMACY = { amenity: 'pharmacy', name: 'Живика', opening_hours: 'Mo-Su 08:00-22:00' } // node 6515915886
const ATM = { amenity: 'atm', opening_hours: '24/7', operator: 'VTB' } // sergiev-posad, node 6265425787
const BANK_WITH_ATM = { amenity: 'bank', atm: 'yes', brand: 'ВТБ', name: 'ВТБ' } // node 1330393793 (excerpt)
const INFO_POINT = { name: 'Троице-Сергиева лавра', tourism: 'information' } // node 6611671818
const INFO_BOARD = { board_type: 'notice', information: 'board', tourism: 'information' } // shabolovka 5731001056

describe('POI classification on real objects', () => {
  it('files the Trinity Lavra as a monastery, not a generic attraction or heritage item', () => {
    expect(classifyPoi(LAVRA)).toBe('monastery')
    expect(classifyHelper(LAVRA)).toBeNull()
    expect(isRelevant(LAVRA)).toBe(true)
  })

  it('files the Shukhov tower (man_made=tower + tourism=attraction) as an attraction', () => {
    expect(classifyPoi(SHUKHOV_TOWER)).toBe('attraction')
  })

  it('prefers the specific historic kind over attraction and heritage', () => {
    expect(classifyPoi(MANOR)).toBe('historic')
    expect(classifyPoi(CHEESE_MONUMENT)).toBe('monument')
  })

  it('accepts a church that has a denomination but no religion tag', () => {
    expect(classifyPoi(CHURCH_WITHOUT_RELIGION)).toBe('place_of_worship')
  })

  it('ignores unnamed historic objects and private parks', () => {
    expect(classifyPoi(UNNAMED_OBELISK)).toBeNull()
    expect(isRelevant(UNNAMED_OBELISK)).toBe(false)
    expect(classifyPoi(PRIVATE_GARDEN_PARK)).toBeNull()
  })

  it('lets a museum beat its heritage listing (precedence)', () => {
    // sergiev-posad-lavra-2020.osm node 1971650945, given the manor's heritage=2 listing
    const museum = { name: 'Историко-художественный музей', tourism: 'museum', heritage: MANOR.heritage }
    expect(classifyPoi(museum)).toBe('museum')
    expect(classifyPoi({ name: museum.name, heritage: museum.heritage })).toBe('heritage')
  })
})

describe('helper classification on real objects', () => {
  it('recognises toilets, pharmacies, ATMs and banks', () => {
    expect(classifyHelper(TOILET)).toBe('toilets')
    expect(classifyHelper(PHARMACY)).toBe('pharmacy')
    expect(classifyHelper(ATM)).toBe('atm')
    expect(classifyHelper(BANK_WITH_ATM)).toBe('bank')
    for (const tags of [TOILET, PHARMACY, ATM]) {
      expect(classifyPoi(tags)).toBeNull()
      expect(isRelevant(tags)).toBe(true)
    }
  })

  it('keeps an information point but not a notice board', () => {
    expect(classifyHelper(INFO_POINT)).toBe('tourist_information')
    expect(classifyHelper(INFO_BOARD)).toBeNull()
  })

  it('drops a private toilet', () => {
    expect(classifyHelper({ ...TOILET, access: 'private' })).toBeNull()
  })
})

/** The simplest tag object a selector accepts; used to prove each rule can still win. */
function exampleTags(selector: TagSelector): Record<string, string> {
  const tags: Record<string, string> = { [selector.key]: selector.values?.[0] ?? 'yes' }
  for (const [key, values] of Object.entries(selector.with ?? {})) tags[key] = values[0]!
  for (const group of selector.requireAny ?? []) tags[group[0]!] = 'Пример'
  return tags
}

describe('the category table', () => {
  it('has unique slugs and a Russian label for every category and kind', () => {
    for (const list of [POI_CATEGORIES, HELPER_KINDS]) {
      const slugs = list.map((entry) => entry.slug)
      expect(new Set(slugs).size).toBe(slugs.length)
      for (const entry of list) expect(isMostlyCyrillic(entry.label_ru), entry.slug).toBe(true)
    }
  })

  it('lets every selector of every rule win for its own example (no rule is shadowed)', () => {
    for (const rule of POI_CATEGORY_RULES) {
      for (const selector of rule.match) expect(classifyPoi(exampleTags(selector))).toBe(rule.slug)
    }
    for (const rule of HELPER_KIND_RULES) {
      for (const selector of rule.match) expect(classifyHelper(exampleTags(selector))).toBe(rule.slug)
    }
  })
})

describeWithOsmData('classification over a whole extract', () => {
  for (const file of ['sergiev-posad-lavra-2020.osm', 'moscow-shabolovka-2020.osm']) {
    it(`${file}: isRelevant keeps exactly the objects that get a category or a kind`, () => {
      const features = readOsmXml(osmFile(file))
      expect(features.length).toBeGreaterThan(5000)
      let kept = 0
      for (const { tags } of features) {
        const classified = classifyPoi(tags) !== null || classifyHelper(tags) !== null
        expect(isRelevant(tags)).toBe(classified)
        if (classified) {
          kept++
          expect(RELEVANT_KEYS.some((key) => key in tags)).toBe(true)
        }
      }
      expect(kept).toBeGreaterThan(50)
    })
  }

  it('finds museums, churches, memorials, the monastery and everyday helpers in Sergiev Posad', () => {
    const pois = new Map<string, number>()
    const helpers = new Map<string, number>()
    let both = 0
    for (const { tags } of readOsmXml(osmFile('sergiev-posad-lavra-2020.osm'))) {
      const poi = classifyPoi(tags)
      const helper = classifyHelper(tags)
      if (poi) pois.set(poi, (pois.get(poi) ?? 0) + 1)
      if (helper) helpers.set(helper, (helpers.get(helper) ?? 0) + 1)
      if (poi && helper) both++
    }
    expect(pois.get('museum')).toBeGreaterThanOrEqual(3)
    expect(pois.get('place_of_worship')).toBeGreaterThanOrEqual(15)
    expect(pois.get('memorial')).toBeGreaterThanOrEqual(5)
    expect(pois.get('monastery')).toBe(1)
    for (const kind of ['toilets', 'pharmacy', 'atm', 'bank', 'drinking_water'] as const) {
      expect(helpers.get(kind), kind).toBeGreaterThan(0)
    }
    // Allowed by design (e.g. a pharmacy in a listed building), but this extract has none.
    expect(both).toBe(0)
  })
})
