import { matchesSelector, NAME_KEYS, type OsmTags, type TagSelector } from './tag-selector.js'

/**
 * The one table that maps OSM tags to public POI categories and helper kinds. Classification,
 * the keep-predicate of the file readers, the Overpass query and docs/categories.md all derive from
 * it, so adding a row here is the whole change.
 *
 * Precedence: rules are tried top to bottom and the FIRST match wins. The order goes from the most
 * specific, visitable kind of place to the most generic label, because mappers stack tags: the
 * Trinity Lavra carries amenity=monastery, historic=monastery, tourism=attraction and heritage=1,
 * and a visitor wants "Монастырь", not "Достопримечательность".
 */
export interface CategoryRule<Slug extends string = string> {
  readonly slug: Slug
  readonly label_ru: string
  /** Whether the apps show objects of this category/kind (the publish gate checks it). */
  readonly public: boolean
  /** The rule matches when ANY of these selectors matches. */
  readonly match: readonly TagSelector[]
}

const NAMED = [NAME_KEYS] as const
/** Private or closed helpers are useless to a visitor and would send them to a locked door. */
const PUBLIC_ACCESS = { access: ['private', 'no'] } as const

const POI_RULES = [
  { slug: 'museum', label_ru: 'Музей', public: true, match: [{ key: 'tourism', values: ['museum'] }] },
  { slug: 'gallery', label_ru: 'Галерея', public: true, match: [{ key: 'tourism', values: ['gallery'] }] },
  { slug: 'zoo', label_ru: 'Зоопарк', public: true, match: [{ key: 'tourism', values: ['zoo'] }] },
  {
    slug: 'aquarium',
    label_ru: 'Океанариум',
    public: true,
    match: [{ key: 'tourism', values: ['aquarium'] }],
  },
  {
    slug: 'theme_park',
    label_ru: 'Парк развлечений',
    public: true,
    match: [{ key: 'tourism', values: ['theme_park'] }],
  },
  {
    slug: 'planetarium',
    label_ru: 'Планетарий',
    public: true,
    match: [{ key: 'amenity', values: ['planetarium'] }],
  },
  { slug: 'theatre', label_ru: 'Театр', public: true, match: [{ key: 'amenity', values: ['theatre'] }] },
  {
    slug: 'arts_centre',
    label_ru: 'Культурный центр',
    public: true,
    match: [{ key: 'amenity', values: ['arts_centre'] }],
  },
  {
    slug: 'monastery',
    label_ru: 'Монастырь',
    public: true,
    match: [
      { key: 'amenity', values: ['monastery'] },
      { key: 'historic', values: ['monastery'], requireAny: NAMED },
    ],
  },
  {
    slug: 'place_of_worship',
    label_ru: 'Храм',
    public: true,
    match: [
      // Real Moscow data has churches with denomination=* but no religion=*: accept either.
      { key: 'amenity', values: ['place_of_worship'], requireAny: [['religion', 'denomination']] },
      { key: 'historic', values: ['church', 'chapel'], requireAny: NAMED },
    ],
  },
  {
    slug: 'castle',
    label_ru: 'Крепость, замок',
    public: true,
    match: [{ key: 'historic', values: ['castle', 'fort', 'citywalls'], requireAny: NAMED }],
  },
  {
    slug: 'ruins',
    label_ru: 'Руины',
    public: true,
    match: [{ key: 'historic', values: ['ruins'], requireAny: NAMED }],
  },
  {
    slug: 'archaeological_site',
    label_ru: 'Археологический памятник',
    public: true,
    match: [{ key: 'historic', values: ['archaeological_site'], requireAny: NAMED }],
  },
  {
    // Memorial plaques number in the tens of thousands in big cities; kept in staging, not shown.
    slug: 'plaque',
    label_ru: 'Мемориальная доска',
    public: false,
    match: [
      { key: 'historic', values: ['memorial'], with: { memorial: ['plaque'] }, requireAny: NAMED },
      { key: 'historic', values: ['memorial_plaque', 'plaque'], requireAny: NAMED },
    ],
  },
  {
    slug: 'monument',
    label_ru: 'Памятник',
    public: true,
    match: [{ key: 'historic', values: ['monument'], requireAny: NAMED }],
  },
  {
    slug: 'memorial',
    label_ru: 'Мемориал',
    public: true,
    match: [{ key: 'historic', values: ['memorial'], requireAny: NAMED }],
  },
  {
    slug: 'viewpoint',
    label_ru: 'Смотровая площадка',
    public: true,
    match: [{ key: 'tourism', values: ['viewpoint'] }],
  },
  { slug: 'artwork', label_ru: 'Арт-объект', public: true, match: [{ key: 'tourism', values: ['artwork'] }] },
  { slug: 'fountain', label_ru: 'Фонтан', public: true, match: [{ key: 'amenity', values: ['fountain'] }] },
  {
    // Any other named historic=* (building, manor, yes, cannon, ...).
    slug: 'historic',
    label_ru: 'Историческое место',
    public: true,
    match: [{ key: 'historic', requireAny: NAMED }],
  },
  {
    slug: 'park',
    label_ru: 'Парк',
    public: true,
    match: [{ key: 'leisure', values: ['park'], requireAny: NAMED, exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'garden',
    label_ru: 'Сад',
    public: true,
    match: [{ key: 'leisure', values: ['garden'], requireAny: NAMED, exclude: PUBLIC_ACCESS }],
  },
  {
    // tourism=attraction says "worth a visit" but not what it is, so every specific rule beats it.
    slug: 'attraction',
    label_ru: 'Достопримечательность',
    public: true,
    match: [{ key: 'tourism', values: ['attraction'] }],
  },
  {
    // Register membership alone (a listed house with no other tag) is the weakest signal.
    slug: 'heritage',
    label_ru: 'Объект культурного наследия',
    public: true,
    match: [
      { key: 'heritage', requireAny: NAMED },
      { key: 'ref:okn', requireAny: NAMED },
    ],
  },
] as const satisfies readonly CategoryRule[]

const HELPER_RULES = [
  {
    slug: 'toilets',
    label_ru: 'Туалет',
    public: true,
    match: [{ key: 'amenity', values: ['toilets'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'drinking_water',
    label_ru: 'Питьевая вода',
    public: true,
    match: [{ key: 'amenity', values: ['drinking_water'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'pharmacy',
    label_ru: 'Аптека',
    public: true,
    match: [{ key: 'amenity', values: ['pharmacy'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'atm',
    label_ru: 'Банкомат',
    public: true,
    match: [{ key: 'amenity', values: ['atm'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'bank',
    label_ru: 'Банк',
    public: true,
    match: [{ key: 'amenity', values: ['bank'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'bureau_de_change',
    label_ru: 'Обмен валюты',
    public: true,
    match: [{ key: 'amenity', values: ['bureau_de_change'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'police',
    label_ru: 'Полиция',
    public: true,
    match: [{ key: 'amenity', values: ['police'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'hospital',
    label_ru: 'Больница',
    public: true,
    match: [{ key: 'amenity', values: ['hospital'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'clinic',
    label_ru: 'Поликлиника',
    public: true,
    match: [{ key: 'amenity', values: ['clinic'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'post_office',
    label_ru: 'Почта',
    public: true,
    match: [{ key: 'amenity', values: ['post_office'], exclude: PUBLIC_ACCESS }],
  },
  {
    slug: 'luggage_locker',
    label_ru: 'Камера хранения',
    public: true,
    match: [
      { key: 'amenity', values: ['luggage_locker', 'left_luggage'], exclude: PUBLIC_ACCESS },
      { key: 'amenity', values: ['locker'], with: { locker: ['luggage'] }, exclude: PUBLIC_ACCESS },
    ],
  },
  {
    // Boards, guideposts and map stands are tagged tourism=information too; a visitor looking for
    // help wants a desk or a kiosk, so those are left out (an untagged `information` is kept).
    slug: 'tourist_information',
    label_ru: 'Туристическая информация',
    public: true,
    match: [
      {
        key: 'tourism',
        values: ['information'],
        exclude: {
          ...PUBLIC_ACCESS,
          information: ['board', 'guidepost', 'map', 'route_marker', 'terminal', 'tactile_map', 'audioguide'],
        },
      },
    ],
  },
] as const satisfies readonly CategoryRule[]

export type PoiCategory = (typeof POI_RULES)[number]['slug']
export type HelperKind = (typeof HELPER_RULES)[number]['slug']

export interface CategoryInfo<Slug extends string> {
  readonly slug: Slug
  readonly label_ru: string
  readonly public: boolean
}

/** The rules in precedence order; exported for the query builder and the docs generator. */
export const POI_CATEGORY_RULES: readonly CategoryRule<PoiCategory>[] = POI_RULES
export const HELPER_KIND_RULES: readonly CategoryRule<HelperKind>[] = HELPER_RULES

const info = <Slug extends string>({ slug, label_ru, public: shown }: CategoryRule<Slug>) => ({
  slug,
  label_ru,
  public: shown,
})

export const POI_CATEGORIES: readonly CategoryInfo<PoiCategory>[] = POI_CATEGORY_RULES.map(info)
export const HELPER_KINDS: readonly CategoryInfo<HelperKind>[] = HELPER_KIND_RULES.map(info)

function firstMatch<Slug extends string>(tags: OsmTags, rules: readonly CategoryRule<Slug>[]): Slug | null {
  for (const rule of rules) {
    for (const selector of rule.match) {
      if (matchesSelector(tags, selector)) return rule.slug
    }
  }
  return null
}

export function classifyPoi(tags: OsmTags): PoiCategory | null {
  return firstMatch(tags, POI_CATEGORY_RULES)
}

export function classifyHelper(tags: OsmTags): HelperKind | null {
  return firstMatch(tags, HELPER_KIND_RULES)
}

/**
 * For each primary key: the set of values some rule accepts, or `null` when a rule accepts any
 * value. Lets `isRelevant` reject the bulk of a file (buildings, roads, benches, parkings) with a
 * few property reads before running the full rules.
 */
const PRIMARY_VALUES: ReadonlyMap<string, ReadonlySet<string> | null> = (() => {
  const index = new Map<string, Set<string> | null>()
  for (const rule of [...POI_CATEGORY_RULES, ...HELPER_KIND_RULES]) {
    for (const selector of rule.match) {
      if (selector.values === undefined) {
        index.set(selector.key, null)
        continue
      }
      const known = index.get(selector.key)
      if (known === null) continue
      const set = known ?? new Set<string>()
      for (const value of selector.values) set.add(value)
      index.set(selector.key, set)
    }
  }
  return index
})()

/**
 * Every object `isRelevant` accepts has at least one of these keys: readers may skip decoding the
 * tags of objects that have none (their `keys` fast path).
 */
export const RELEVANT_KEYS: readonly string[] = [...PRIMARY_VALUES.keys()]

function couldMatch(tags: OsmTags): boolean {
  for (const [key, values] of PRIMARY_VALUES) {
    const value = tags[key]
    if (value === undefined) continue
    if (values === null || values.has(value)) return true
  }
  return false
}

/** Keep-predicate for file readers: true when the object is a POI or a helper (or both). */
export function isRelevant(tags: OsmTags): boolean {
  return couldMatch(tags) && (classifyPoi(tags) !== null || classifyHelper(tags) !== null)
}
