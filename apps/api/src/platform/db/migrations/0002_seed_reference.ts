import { type Kysely, sql } from 'kysely'

/**
 * Reference data: the two branded apps and the cities they offer. The app keys here are the
 * documented development keys (identifiers shipped inside each app, not secrets); production keys
 * come from TENANT_APP_KEYS and are applied at start. Inserts skip what exists, so running the seed
 * again changes nothing.
 */

const TENANTS = [
  { slug: 'gorod', name: 'Город: путеводитель', app_key: 'dev-gorod-app-key' },
  { slug: 'progulki', name: 'Прогулки', app_key: 'dev-progulki-app-key' },
]

// Boundary relation ids of the cities' administrative boundaries in OpenStreetMap; bbox as
// [minLon, minLat, maxLon, maxLat] of that boundary; centre is the city's place node. See docs/cities.md.
const CITIES: Array<{
  slug: string
  name_ru: string
  rel: number
  bbox: [number, number, number, number]
  center: [number, number]
  tz: string
}> = [
  {
    slug: 'moscow',
    name_ru: 'Москва',
    rel: 102269,
    bbox: [36.803, 55.1421, 37.9674, 56.0212],
    center: [55.7558, 37.6173],
    tz: 'Europe/Moscow',
  },
  {
    slug: 'saint-petersburg',
    name_ru: 'Санкт-Петербург',
    rel: 337422,
    bbox: [29.4253, 59.6338, 30.7598, 60.2447],
    center: [59.9387, 30.3162],
    tz: 'Europe/Moscow',
  },
  {
    slug: 'sergiev-posad',
    name_ru: 'Сергиев Посад',
    rel: 171922,
    bbox: [37.8555, 56.1249, 38.5833, 56.7143],
    center: [56.3153529, 38.1358208],
    tz: 'Europe/Moscow',
  },
  {
    slug: 'kazan',
    name_ru: 'Казань',
    rel: 3446524,
    bbox: [48.8215, 55.6047, 49.3898, 55.9324],
    center: [55.7964, 49.1089],
    tz: 'Europe/Moscow',
  },
  {
    slug: 'nizhny-novgorod',
    name_ru: 'Нижний Новгород',
    rel: 1811385,
    bbox: [43.7265, 56.1847, 44.1378, 56.4218],
    center: [56.3269, 44.0065],
    tz: 'Europe/Moscow',
  },
  {
    slug: 'yaroslavl',
    name_ru: 'Ярославль',
    rel: 81994,
    bbox: [39.7186, 57.5542, 40.0433, 57.7416],
    center: [57.6261, 39.8845],
    tz: 'Europe/Moscow',
  },
]

// The second brand is a walking-tour app for the capital region: it offers a subset.
const OFFERS: Record<string, string[]> = {
  gorod: CITIES.map((c) => c.slug),
  progulki: ['moscow', 'sergiev-posad', 'saint-petersburg'],
}

export async function up(db: Kysely<any>): Promise<void> {
  for (const t of TENANTS) {
    await sql`INSERT INTO tenants (slug, name, app_key) VALUES (${t.slug}, ${t.name}, ${t.app_key})
              ON CONFLICT (slug) DO NOTHING`.execute(db)
  }
  for (const c of CITIES) {
    await sql`
      INSERT INTO cities (slug, name_ru, osm_relation_id, bbox_min_lon, bbox_min_lat, bbox_max_lon, bbox_max_lat,
                          center_lat, center_lon, timezone)
      VALUES (${c.slug}, ${c.name_ru}, ${c.rel}, ${c.bbox[0]}, ${c.bbox[1]}, ${c.bbox[2]}, ${c.bbox[3]},
              ${c.center[0]}, ${c.center[1]}, ${c.tz})
      ON CONFLICT (slug) DO NOTHING`.execute(db)
  }
  for (const [tenant, slugs] of Object.entries(OFFERS)) {
    for (const slug of slugs) {
      await sql`
        INSERT INTO tenant_cities (tenant_id, city_id)
        SELECT t.id, c.id FROM tenants t, cities c WHERE t.slug = ${tenant} AND c.slug = ${slug}
        ON CONFLICT DO NOTHING`.execute(db)
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM tenant_cities`.execute(db)
  await sql`DELETE FROM cities`.execute(db)
  await sql`DELETE FROM tenants`.execute(db)
}
