/**
 * "Nearby" on real Postgres with ≥ 1 000 000 published POIs tiled over Moscow from the real extracts:
 * p50/p95/p99 for 300 m, 1 km and 5 km radii (50 nearest), ours (core point + covering GiST KNN on the city
 * plane, exact great-circle re-rank) next to PostGIS (geography + GiST KNN) over the same rows in the
 * same run. Prints figures; asserts nothing. Creates and drops its own database.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/nearby.bench.ts
 */

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { candidateLimit, findNearby } from '../apps/api/src/modules/places/nearby.js'
import { fromPostgres } from '../apps/api/src/platform/db/client.js'
import { migrateToLatest } from '../apps/api/src/platform/db/migrator.js'

const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data/osm')
const EXTRACTS = ['moscow-shabolovka-2020', 'sergiev-posad-lavra-2020', 'moscow-ostankino-2013']
const TARGET_ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000)
const QUERIES = Number(process.env.BENCH_QUERIES ?? 2000)
const RADII = [300, 1000, 5000]
const LIMIT = 50

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** Real POI positions, each extract centred on (0, 0): one tile of the pattern. */
function basePattern(): Array<{ dLat: number; dLon: number; name: string }> {
  const out: Array<{ dLat: number; dLon: number; name: string }> = []
  for (const file of EXTRACTS) {
    const doc = JSON.parse(readFileSync(join(DATA, `${file}.pois.DERIVED-overpass-shape.json`), 'utf8'))
    const pts = (
      doc.elements as Array<{
        lat?: number
        lon?: number
        center?: { lat: number; lon: number }
        tags?: Record<string, string>
      }>
    )
      .map((e) => ({
        lat: e.lat ?? e.center?.lat,
        lon: e.lon ?? e.center?.lon,
        name: e.tags?.name ?? 'Объект',
      }))
      .filter(
        (p): p is { lat: number; lon: number; name: string } => p.lat !== undefined && p.lon !== undefined,
      )
    const cLat = pts.reduce((s, p) => s + p.lat, 0) / pts.length
    const cLon = pts.reduce((s, p) => s + p.lon, 0) / pts.length
    for (const p of pts) out.push({ dLat: p.lat - cLat, dLon: p.lon - cLon, name: p.name })
  }
  return out
}

/**
 * The two statements through pgbench (a C client, prepared, 2 clients, 10 s each, 1 km, random points
 * over the area), which keeps the node client's own overhead out of the figures: ours is the service's
 * candidate scan (`nearby.ts`, no category asked: city, the box of the planar radius, KNN order,
 * limit + over-fetch); PostGIS is its KNN over the same rows. Skipped when pgbench is not installed.
 */
function pgbenchCompare(
  url: string,
  cityId: number,
  refLat: number,
  area: { minLon: number; maxLon: number; minLat: number; maxLat: number },
): string {
  const dir = mkdtempSync(join(tmpdir(), 'gorod-pgbench-'))
  const head = `\\set ilat random(0, 100000)\n\\set ilon random(0, 100000)\n`
  const lon = `(${area.minLon + 0.05} + :ilon * ${((area.maxLon - area.minLon - 0.1) / 100000).toFixed(9)})`
  const lat = `(${area.minLat + 0.05} + :ilat * ${((area.maxLat - area.minLat - 0.1) / 100000).toFixed(9)})`
  const x = `${lon} * ${Math.cos((refLat * Math.PI) / 180)}`
  const q = `point(${x}, ${lat})`
  const r = ((1000 / 111195) * 1.01).toFixed(6)
  const scripts = {
    ours: `SELECT id, name_ru AS name, category, geo[0] AS x, geo[1] AS lat FROM poi WHERE published AND city_id = ${cityId} AND geo <@ box(point(${x} - ${r}, ${lat} - ${r}), point(${x} + ${r}, ${lat} + ${r})) ORDER BY geo <-> ${q} LIMIT ${candidateLimit(LIMIT)};`,
    postgis: `SELECT id, name_ru, category, lat, lon, ST_Distance(g, q) AS d FROM poi, (SELECT geography(ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)) AS q) s WHERE published AND ST_DWithin(g, q, 1000) ORDER BY g <-> q LIMIT ${LIMIT};`,
  }
  // Alternating rounds, 6 s each: the median of each side, so one side's cache warm-up or a noisy
  // moment on the machine does not decide the ratio.
  const rounds: Record<string, number[]> = { ours: [], postgis: [] }
  try {
    for (const [key, body] of Object.entries(scripts))
      writeFileSync(join(dir, `${key}.sql`), `${head}${body}\n`)
    for (let round = 0; round < 3; round++) {
      for (const key of Object.keys(scripts)) {
        const out = execFileSync(
          'pgbench',
          ['-n', '-M', 'prepared', '-c', '2', '-T', '6', '-f', join(dir, `${key}.sql`), url],
          { encoding: 'utf8' },
        )
        rounds[key]!.push(Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]))
      }
    }
  } catch (err) {
    return `pgbench comparison skipped: ${(err as Error).message.split('\n')[0]}`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
  const ours = median(rounds.ours!)
  const gis = median(rounds.postgis!)
  return `pgbench (prepared, 2 clients, 1 km, 50 nearest; median of 3 rounds): ours ${ours} ms (${rounds.ours!.join(', ')}), PostGIS ${gis} ms (${rounds.postgis!.join(', ')}), ratio ${(ours / gis).toFixed(2)}×`
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function time(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn()
    out.push(performance.now() - t0)
  }
  return out.sort((a, b) => a - b)
}

const fmt = (xs: number[]) =>
  `p50 ${percentile(xs, 50).toFixed(3)} ms  p95 ${percentile(xs, 95).toFixed(3)} ms  p99 ${percentile(xs, 99).toFixed(3)} ms`

export async function run(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const name = `gorod_bench_nearby_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const database = fromPostgres(withDatabase(url, name), 4)
  try {
    await migrateToLatest(database.db)
    const pool = database.pool
    const { rows: city } = await pool.query(
      `SELECT id, ref_lat, bbox_min_lon, bbox_min_lat, bbox_max_lon, bbox_max_lat FROM cities WHERE slug = 'moscow'`,
    )
    const moscow = city[0]
    const tenant = (await pool.query(`SELECT id FROM tenants WHERE slug = 'gorod'`)).rows[0].id as number
    const pattern = basePattern()
    const tiles = Math.ceil(TARGET_ROWS / pattern.length)
    const side = Math.ceil(Math.sqrt(tiles))
    // Central Moscow: a grid of tiles, each the real pattern shifted to the tile's centre.
    const area = { minLon: 37.35, maxLon: 37.9, minLat: 55.55, maxLat: 55.92 }
    const stepLon = (area.maxLon - area.minLon) / side
    const stepLat = (area.maxLat - area.minLat) / side
    console.log(
      `base pattern ${pattern.length} real POIs, ${tiles} tiles (${side}×${side}) → ${tiles * pattern.length} rows`,
    )

    // The bench database only: poi rows without staging rows (the FK would need a million staging rows).
    await pool.query('ALTER TABLE poi DROP CONSTRAINT poi_staging_id_fkey')
    await pool.query('ALTER TABLE poi DISABLE TRIGGER poi_geo')
    await pool.query(`CREATE TABLE bench_pattern (i int, dlat float8, dlon float8, name text)`)
    await pool.query(
      `INSERT INTO bench_pattern SELECT * FROM unnest($1::int[], $2::float8[], $3::float8[], $4::text[])`,
      [
        pattern.map((_, i) => i),
        pattern.map((p) => p.dLat),
        pattern.map((p) => p.dLon),
        pattern.map((p) => p.name),
      ],
    )
    // PostGIS's column is filled by the same INSERT: adding it afterwards with an UPDATE would leave
    // every index of the table (ours included) with a dead entry per row.
    let postgis = true
    try {
      await pool.query('CREATE EXTENSION postgis')
      await pool.query('ALTER TABLE poi ADD COLUMN g geography')
    } catch (err) {
      postgis = false
      console.log(`PostGIS unavailable: ${(err as Error).message}`)
    }
    const t0 = performance.now()
    await pool.query(
      `INSERT INTO poi (staging_id, city_id, osm_type, osm_id, category, name_ru, lat, lon, geo, sources, license,
                        attribution, staging_hash${postgis ? ', g' : ''})
       SELECT row_number() OVER (), $1::int, 'node', row_number() OVER (), 'museum', b.name, lat, lon,
              point(lon * cos(radians($2::float8)), lat), '[{"type":"osm"}]', 'ODbL-1.0', '© OpenStreetMap contributors', 'h'
              ${postgis ? ', geography(ST_SetSRID(ST_MakePoint(lon, lat), 4326))' : ''}
       FROM generate_series(0, $3::int - 1) AS t
       CROSS JOIN bench_pattern b
       CROSS JOIN LATERAL (SELECT $4::float8 + (t % $6::int + 0.5) * $7::float8 + b.dlon AS lon,
                                   $5::float8 + (t / $6::int + 0.5) * $8::float8 + b.dlat AS lat) AS pos`,
      [moscow.id, moscow.ref_lat, tiles, area.minLon, area.minLat, side, stepLon, stepLat],
    )
    const count = Number((await pool.query('SELECT count(*) FROM poi')).rows[0].count)
    console.log(`loaded ${count} POIs in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    await pool.query('VACUUM ANALYZE poi')
    const ours = (await pool.query(`SELECT pg_size_pretty(pg_relation_size('poi_geo_idx')) AS s`)).rows[0].s

    if (postgis) {
      await pool.query(`CREATE TABLE poi_gis AS SELECT id, g FROM poi`)
      await pool.query('CREATE INDEX poi_gis_g_idx ON poi_gis USING gist (g)')
      await pool.query('VACUUM ANALYZE poi_gis')
      // The fair comparison: PostGIS over the very same rows, reading the same columns.
      await pool.query('CREATE INDEX poi_g_idx ON poi USING gist (g) WHERE published')
      await pool.query('VACUUM ANALYZE poi')
    }
    const gisSize = postgis
      ? (await pool.query(`SELECT pg_size_pretty(pg_relation_size('poi_gis_g_idx')) AS s`)).rows[0].s
      : 'n/a'
    console.log(`index size: ours (covering GiST on point) ${ours}, PostGIS (GiST on geography) ${gisSize}`)

    const rnd = (i: number) => {
      const a = Math.sin(i * 12.9898) * 43758.5453
      return a - Math.floor(a)
    }
    const pointAt = (i: number) => ({
      lat: area.minLat + 0.05 + rnd(i) * (area.maxLat - area.minLat - 0.1),
      lon: area.minLon + 0.05 + rnd(i + 7777) * (area.maxLon - area.minLon - 0.1),
    })
    const client = await pool.connect()
    try {
      const xScale = Math.cos((moscow.ref_lat * Math.PI) / 180)
      for (const radius of RADII) {
        let i = 0
        // Ours through the service: city lookup + planar KNN with over-fetch + exact re-rank in TS.
        const service = await time(
          () =>
            findNearby(database, tenant, {
              ...pointAt(i++),
              radiusM: radius,
              kinds: ['poi'],
              limit: LIMIT,
            }),
          QUERIES,
        )
        i = 0
        const r = (radius / 111195) * 1.01
        // Ours, one prepared statement: planar KNN in a box, exact haversine filter and order.
        const sqlOurs = await time(async () => {
          const p = pointAt(i++)
          const x = p.lon * xScale
          await client.query({
            name: 'ours',
            text: `SELECT id, name_ru, category, lat, lon, d FROM (
                     SELECT id, name_ru, category, lat, lon, 2 * 6371008.8 * asin(sqrt(power(sin(radians(lat - $2) / 2), 2)
                            + cos(radians($2)) * cos(radians(lat)) * power(sin(radians(lon - $3) / 2), 2))) AS d
                     FROM (SELECT id, name_ru, category, geo[1] AS lat, geo[0] / $8::float8 AS lon FROM poi
                           WHERE published AND city_id = $6
                             AND geo <@ box(point($1::float8 - $4::float8, $2::float8 - $4::float8), point($1::float8 + $4::float8, $2::float8 + $4::float8))
                           ORDER BY geo <-> point($1::float8, $2::float8) LIMIT $5::int) k) c
                   WHERE d <= $7::float8 ORDER BY d, id LIMIT 50`,
            values: [x, p.lat, p.lon, r, candidateLimit(LIMIT), moscow.id, radius, xScale],
          })
        }, QUERIES)
        let line = `r=${String(radius).padStart(4)} m  ours(service) ${fmt(service)}\n          ours(sql)     ${fmt(sqlOurs)}`
        if (postgis) {
          i = 0
          const gis = await time(async () => {
            const p = pointAt(i++)
            await client.query({
              name: 'postgis',
              text: `SELECT id, name_ru, category, lat, lon, ST_Distance(g, q) AS d
                     FROM poi, (SELECT geography(ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326)) AS q) s
                     WHERE published AND ST_DWithin(g, q, $3::float8) ORDER BY g <-> q LIMIT 50`,
              values: [p.lat, p.lon, radius],
            })
          }, QUERIES)
          i = 0
          const gisNarrow = await time(async () => {
            const p = pointAt(i++)
            await client.query({
              name: 'postgis_narrow',
              text: `SELECT id, ST_Distance(g, q) AS d
                     FROM poi_gis, (SELECT geography(ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326)) AS q) s
                     WHERE ST_DWithin(g, q, $3::float8) ORDER BY g <-> q LIMIT 50`,
              values: [p.lat, p.lon, radius],
            })
          }, QUERIES)
          const ratio = percentile(sqlOurs, 50) / percentile(gis, 50)
          const ratioSvc = percentile(service, 50) / percentile(gis, 50)
          line += `\n          postgis       ${fmt(gis)}\n          postgis, narrow table (id, g only) ${fmt(gisNarrow)}\n          ratio p50 ours(sql)/postgis ${ratio.toFixed(2)}×, ours(service)/postgis ${ratioSvc.toFixed(2)}×`
        }
        console.log(line)
      }
    } finally {
      client.release()
    }
    if (postgis) console.log(pgbenchCompare(withDatabase(url, name), moscow.id, moscow.ref_lat, area))
  } finally {
    await database.close()
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
