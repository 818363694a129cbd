import { describe, expect, it } from 'vitest'
import {
  type CatalogItemForGates,
  catalogItemGates,
  type StopForGates,
  type TourForGates,
  tourGates,
} from '../../src/modules/catalog/gates.js'
import type { CityArea } from '../../src/modules/publishing/index.js'

const area: CityArea = {
  boundary: [
    {
      outer: [
        [38.1, 56.29],
        [38.16, 56.29],
        [38.16, 56.33],
        [38.1, 56.33],
        [38.1, 56.29],
      ],
      holes: [],
    },
  ],
  bbox: { minLon: 38.1, minLat: 56.29, maxLon: 38.16, maxLat: 56.33 },
}

const goodMedia = {
  sha256: 'a'.repeat(64),
  author: 'Проект «Город»',
  license: 'CC-BY-4.0',
  source_url: 'https://example.org/lavra',
}

const stop = (position: number, over: Partial<StopForGates> = {}): StopForGates => ({
  position,
  title_ru: 'Успенский собор',
  narration_ru: 'Собор построен по образцу Успенского собора Московского Кремля.',
  trigger_radius_m: 60,
  lat: 56.3103,
  lon: 38.1306,
  poi: { id: 7, published: true, name_ru: 'Успенский собор' },
  image: goodMedia,
  audio: null,
  ...over,
})

const tour = (over: Partial<TourForGates> = {}): TourForGates => ({
  title_ru: 'Лавра за час',
  summary_ru: 'Главные храмы монастыря',
  description_ru: 'Прогулка по Троице-Сергиевой лавре.',
  cover: goodMedia,
  stops: [stop(1), stop(2)],
  ...over,
})

describe('tour gates', () => {
  it('a complete tour passes every gate', () => {
    expect(tourGates(tour(), area)).toEqual([])
  })

  it('Russian text: titles, summaries and narration must be present and Russian', () => {
    const f = tourGates(
      tour({ title_ru: ' ', summary_ru: 'Main churches', stops: [stop(1, { narration_ru: '' }), stop(2)] }),
      area,
    )
    expect(f).toEqual([
      { gate: 'ru_text', field: 'title_ru', reason: 'название тура: текст отсутствует' },
      {
        gate: 'ru_text',
        field: 'summary_ru',
        reason: 'краткое описание тура: текст должен быть на русском языке',
      },
      { gate: 'ru_text', stop: 1, field: 'narration_ru', reason: 'остановка 1, рассказ: текст отсутствует' },
    ])
  })

  it('media: author, allowed licence and source are each required', () => {
    const bad = { sha256: 'b'.repeat(64), author: null, license: 'All rights reserved', source_url: null }
    const f = tourGates(tour({ cover: bad, stops: [stop(1), stop(2, { audio: bad })] }), area)
    expect(f.map((x) => [x.gate, x.stop, x.field])).toEqual([
      ['media_license', undefined, 'cover'],
      ['media_license', undefined, 'cover'],
      ['media_license', undefined, 'cover'],
      ['media_license', 2, 'audio'],
      ['media_license', 2, 'audio'],
      ['media_license', 2, 'audio'],
    ])
    expect(f[1]!.reason).toMatch(/лицензия «All rights reserved» не разрешена/)
    for (const license of ['CC-BY-4.0', 'CC-BY-SA-4.0', 'CC0-1.0', 'own'])
      expect(tourGates(tour({ cover: { ...goodMedia, license } }), area)).toEqual([])
  })

  it('at least two stops', () => {
    expect(tourGates(tour({ stops: [stop(1)] }), area)).toEqual([
      { gate: 'min_stops', field: 'stops', reason: 'в туре 1 остановок, нужно не меньше 2' },
    ])
  })

  it('every stop inside the city boundary', () => {
    const f = tourGates(tour({ stops: [stop(1), stop(2, { lat: 55.75, lon: 37.62, poi: null })] }), area)
    expect(f).toEqual([
      {
        gate: 'in_city',
        stop: 2,
        field: 'position',
        reason: 'остановка 2: точка 55.75, 37.62 за границей города',
      },
    ])
  })

  it('every referenced POI published', () => {
    const f = tourGates(
      tour({ stops: [stop(1), stop(2, { poi: { id: 9, published: false, name_ru: 'Колокольня' } })] }),
      area,
    )
    expect(f).toEqual([
      {
        gate: 'poi_published',
        stop: 2,
        field: 'poi',
        reason: 'остановка 2: объект «Колокольня» (id 9) снят с публикации',
      },
    ])
  })

  it('trigger radius within 10–500 m', () => {
    const f = tourGates(
      tour({
        stops: [
          stop(1, { trigger_radius_m: 9 }),
          stop(2, { trigger_radius_m: 501 }),
          stop(3, { trigger_radius_m: 500 }),
        ],
      }),
      area,
    )
    expect(f.map((x) => [x.gate, x.stop])).toEqual([
      ['trigger_radius', 1],
      ['trigger_radius', 2],
    ])
  })

  it('reports every failure at once', () => {
    const f = tourGates(
      tour({ title_ru: '', stops: [stop(1, { trigger_radius_m: 5, lat: 10, lon: 10, title_ru: 'Tower' })] }),
      area,
    )
    expect(new Set(f.map((x) => x.gate))).toEqual(
      new Set(['ru_text', 'min_stops', 'trigger_radius', 'in_city']),
    )
  })
})

describe('catalog item gates', () => {
  const item = (over: Partial<CatalogItemForGates> = {}): CatalogItemForGates => ({
    title_ru: 'Вся лавра',
    summary_ru: 'Два тура по монастырю',
    paid: true,
    cover: goodMedia,
    tours: [{ id: 1, slug: 'lavra', published: true }],
    offers: [
      { tenant: 'gorod', apple_product_id: 'gorod.lavra', rustore_product_id: 'gorod_lavra' },
      { tenant: 'progulki', apple_product_id: 'progulki.lavra', rustore_product_id: 'progulki_lavra' },
    ],
    ...over,
  })

  it('a complete paid item passes', () => {
    expect(catalogItemGates(item())).toEqual([])
  })

  it('a paid item needs a product id per store for every tenant offering it; a free one needs none', () => {
    const offers = [{ tenant: 'progulki', apple_product_id: null, rustore_product_id: 'p' }]
    expect(catalogItemGates(item({ offers }))).toEqual([
      {
        gate: 'product_ids',
        field: 'offers.progulki.apple',
        reason: 'платная позиция: для приложения «progulki» не указан идентификатор продукта App Store',
      },
    ])
    expect(catalogItemGates(item({ paid: false, offers }))).toEqual([])
  })

  it('needs tours, all published, and Russian text', () => {
    expect(catalogItemGates(item({ tours: [] })).map((f) => f.gate)).toEqual(['has_tours'])
    expect(
      catalogItemGates(item({ title_ru: 'Lavra', tours: [{ id: 2, slug: 'x', published: false }] })).map(
        (f) => f.gate,
      ),
    ).toEqual(['ru_text', 'tours_published'])
  })
})
