import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { PermanentJobError } from '../../platform/jobs/types.js'
import { TILES_ATTRIBUTION } from './map-style.js'
import { writePmtiles } from './pmtiles-writer.js'

/** The Debian package that provides the builder; named in the error when it is missing. */
export const BUILDER_PACKAGE = 'tilemaker'

/** The project's copy of tilemaker's OpenMapTiles profile, with Russian names (ADR 020). */
export const PROFILE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'basemap-profile')

export type Bbox = [number, number, number, number]

/** The builder's executable on PATH, or null. */
export async function findBuilder(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, 'tilemaker')
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return null
}

export async function requireBuilder(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = await findBuilder(env)
  if (!found)
    throw new PermanentJobError(
      'BASEMAP_BUILDER_MISSING',
      `the basemap builder is not installed: no tilemaker on PATH (install the Debian package ` +
        `"${BUILDER_PACKAGE}": apt-get install -y ${BUILDER_PACKAGE}), then retry this run`,
    )
  return found
}

/**
 * Runs tilemaker on a PBF into an MBTiles file. `--bbox` is the city's box (tilemaker 2.2 uses it
 * when the file carries no bbox header; the writer clips to the city either way).
 */
export async function runTilemaker(
  builder: string,
  input: { pbf: string; mbtiles: string; bbox: Bbox; storeDir: string },
  signal: AbortSignal,
): Promise<{ ms: number }> {
  const started = performance.now()
  const args = [
    '--input',
    input.pbf,
    '--output',
    input.mbtiles,
    '--bbox',
    input.bbox.join(','),
    '--config',
    join(PROFILE_DIR, 'config.json'),
    '--process',
    join(PROFILE_DIR, 'process.lua'),
    '--threads',
    '0',
  ]
  await new Promise<void>((resolve, reject) => {
    const child = spawn(builder, args, { cwd: input.storeDir, signal, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000)
    })
    child.on('error', (err) => reject(err))
    child.on('close', (code, sig) => {
      if (code === 0) resolve()
      else
        reject(
          new PermanentJobError(
            'BASEMAP_BUILD_FAILED',
            `tilemaker exited with ${code ?? sig}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        )
    })
  })
  return { ms: performance.now() - started }
}

/** Tile x/y range covering a bbox at zoom z (XYZ rows). */
export function tileRange(bbox: Bbox, z: number) {
  const n = 2 ** z
  const lonX = (lon: number) => Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)))
  const latY = (lat: number) => {
    const r = (lat * Math.PI) / 180
    const y = ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n
    return Math.min(n - 1, Math.max(0, Math.floor(y)))
  }
  return { minX: lonX(bbox[0]), maxX: lonX(bbox[2]), minY: latY(bbox[3]), maxY: latY(bbox[1]) }
}

export interface BasemapArchive {
  bytes: Buffer
  tileCount: number
  minZoom: number
  maxZoom: number
  bounds: Bbox
}

/**
 * Reads tilemaker's MBTiles, keeps the tiles that touch the city's box and writes PMTiles. Tiles
 * stay as tilemaker compressed them (gzip); the metadata keeps its `vector_layers` and gets the
 * OpenStreetMap attribution.
 */
export function mbtilesToPmtiles(mbtiles: string, city: { name: string; bbox: Bbox }): BasemapArchive {
  const db = new Database(mbtiles, { readonly: true, fileMustExist: true })
  try {
    const meta = new Map(
      (db.prepare('SELECT name, value FROM metadata').all() as Array<{ name: string; value: string }>).map(
        (r) => [r.name, r.value],
      ),
    )
    const json = meta.get('json') ? (JSON.parse(meta.get('json')!) as Record<string, unknown>) : {}
    const dataBounds = (meta.get('bounds') ?? city.bbox.join(',')).split(',').map(Number) as Bbox
    const bounds: Bbox = [
      Math.max(dataBounds[0], city.bbox[0]),
      Math.max(dataBounds[1], city.bbox[1]),
      Math.min(dataBounds[2], city.bbox[2]),
      Math.min(dataBounds[3], city.bbox[3]),
    ]
    if (bounds[0] >= bounds[2] || bounds[1] >= bounds[3])
      throw new PermanentJobError(
        'BASEMAP_EMPTY',
        `the extract (${dataBounds.join(',')}) does not overlap the city's box (${city.bbox.join(',')})`,
      )
    const ranges = new Map<number, ReturnType<typeof tileRange>>()
    const inCity = (z: number, x: number, y: number) => {
      let r = ranges.get(z)
      if (!r) {
        r = tileRange(bounds, z)
        ranges.set(z, r)
      }
      return x >= r.minX && x <= r.maxX && y >= r.minY && y <= r.maxY
    }
    const rows = db
      .prepare('SELECT zoom_level AS z, tile_column AS x, tile_row AS tms, tile_data AS data FROM tiles')
      .iterate() as Iterable<{ z: number; x: number; tms: number; data: Buffer }>
    const kept: Array<{ z: number; x: number; y: number; data: Buffer }> = []
    for (const r of rows) {
      const y = 2 ** r.z - 1 - r.tms
      if (inCity(r.z, r.x, y)) kept.push({ z: r.z, x: r.x, y, data: r.data })
    }
    if (kept.length === 0)
      throw new PermanentJobError('BASEMAP_EMPTY', 'the builder wrote no tile inside the city')
    const gzipped = kept[0]!.data[0] === 0x1f && kept[0]!.data[1] === 0x8b
    const minZoom = Math.min(...kept.map((t) => t.z))
    const maxZoom = Math.max(...kept.map((t) => t.z))
    const center: [number, number, number] = [
      (bounds[0] + bounds[2]) / 2,
      (bounds[1] + bounds[3]) / 2,
      Math.min(maxZoom, 12),
    ]
    const bytes = writePmtiles(kept, {
      tileCompression: gzipped ? 2 : 1,
      tileType: 1,
      bounds,
      center,
      metadata: {
        name: `${city.name}: базовая карта`,
        description: 'Базовая карта города (схема OpenMapTiles), подписи на русском',
        attribution: TILES_ATTRIBUTION,
        type: 'baselayer',
        vector_layers: json.vector_layers ?? [],
      },
    })
    return { bytes, tileCount: kept.length, minZoom, maxZoom, bounds }
  } finally {
    db.close()
  }
}
