import { createReadStream } from 'node:fs'
import { type Kysely, sql } from 'kysely'
import type { DB } from '../../src/platform/db/schema.js'
import { startLocalQueue } from '../../src/platform/jobs/pgboss-queue.js'
import type { JobHandlers } from '../../src/platform/jobs/types.js'
import { createLogger } from '../../src/platform/log.js'
import { json, jsonRequest } from '../helpers/http.js'
import { ADMIN_TOKEN, type TestApp } from '../helpers/test-app.js'
import type { TestDatabase } from '../helpers/test-db.js'
import { type LocalServer, startLocalServer } from '../ingestion/local-http-server.js'

/** pg-boss on the test database: a sender only (`handlers` null) or an in-process worker. */
export function localQueue(
  database: TestDatabase,
  handlers: JobHandlers | null,
  opts: { leaseSeconds?: number; maxAttempts?: number; concurrency?: number } = {},
) {
  return startLocalQueue({
    database,
    ...(database.url ? { connectionString: database.url } : {}),
    log: createLogger('silent'),
    maxAttempts: opts.maxAttempts ?? 3,
    leaseSeconds: opts.leaseSeconds ?? 30,
    worker: handlers ? { handlers, concurrency: opts.concurrency ?? 2 } : null,
    cron: null,
  })
}

/** Serves one OSM extract file at `/<name>` from 127.0.0.1. */
export function serveExtract(file: string, name: string): Promise<LocalServer> {
  return startLocalServer((req, res) => {
    if (req.path !== `/${name}`) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    createReadStream(file).pipe(res)
  })
}

export async function enqueue(
  t: TestApp,
  body: Record<string, unknown>,
  type: 'osm' | 'helpers' = 'osm',
): Promise<string> {
  const res = await t.app.request(
    `/v1/admin/ingestion/${type}/enqueue`,
    jsonRequest(body, { 'X-Admin-Token': ADMIN_TOKEN }),
  )
  if (res.status !== 202) throw new Error(`enqueue answered ${res.status}: ${await res.text()}`)
  return (await json(res)).job_id
}

export interface StagedIdentity {
  osm_type: string
  osm_id: string
  content_hash: string
  category: string
}

/** A city's staged POIs by identity and content, in a stable order (no run ids or times). */
export async function stagedSet(db: Kysely<DB>, city: string): Promise<StagedIdentity[]> {
  const { rows } = await sql<StagedIdentity>`
    SELECT s.osm_type, s.osm_id::text AS osm_id, s.content_hash, s.category
    FROM poi_ingestion_staging s JOIN cities c ON c.id = s.city_id
    WHERE c.slug = ${city} ORDER BY s.osm_type, s.osm_id`.execute(db)
  return rows
}

export async function countRows(db: Kysely<DB>, table: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db)
  return rows[0]!.n
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
