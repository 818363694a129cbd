import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  OverpassClient,
  type OverpassClientOptions,
} from '../../src/modules/ingestion/sources/overpass-client.js'
import { ingestUserAgent, UpstreamError } from '../../src/modules/ingestion/sources/upstream-error.js'
import { createLogger } from '../../src/platform/log.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { type LocalServer, startLocalServer } from './local-http-server.js'

const QUERY = '[out:json][timeout:25];node(1);out;'
const SMALL = JSON.stringify({
  version: 0.6,
  generator: 'Overpass API',
  elements: [{ type: 'node', id: 1, lat: 56.3, lon: 38.1 }],
})
const TIMED_OUT = `{
  "version": 0.6,
  "generator": "Overpass API 0.7.62",
  "elements": [
{ "type": "node", "id": 1, "lat": 56.3, "lon": 38.1 }
  ],
"remark": "runtime error: Query timed out in \\"query\\" at line 3 after 26 seconds."

}
`

let dir: string
let servers: LocalServer[] = []
let logLines: Record<string, unknown>[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gorod-overpass-'))
  logLines = []
})
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
  rmSync(dir, { recursive: true, force: true })
})

async function server(handle: Parameters<typeof startLocalServer>[0]): Promise<LocalServer> {
  const s = await startLocalServer(handle)
  servers.push(s)
  return s
}

function client(urls: string[], over: Partial<OverpassClientOptions> = {}): OverpassClient {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line))
      done()
    },
  })
  return new OverpassClient({
    urls,
    timeoutSeconds: 5,
    timeoutMarginMs: 0,
    idleTimeoutMs: 2_000,
    maxBytes: 10_000_000,
    maxTries: 3,
    userAgent: ingestUserAgent('0.1.0', 'https://gorod.example/contact'),
    log: createLogger('info', sink),
    backoff: { baseMs: 10, maxMs: 20 },
    maxSlotWaitMs: 3_000,
    ...over,
  })
}

const interp = (s: LocalServer) => `${s.url}/api/interpreter`
const posts = (s: LocalServer) => s.seen.filter((r) => r.method === 'POST')
const leftovers = () => readdirSync(dir)

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(UpstreamError)
  return err as UpstreamError
}

describeWithOsmData('OverpassClient with a real-shaped answer', () => {
  it('saves the answer of the first try byte for byte, identified as a polite client', async () => {
    const body = readFileSync(osmFile('sergiev-posad-lavra-2020.pois.DERIVED-overpass-shape.json'))
    const s = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      // Several writes: the client has to stream, not rely on one chunk.
      for (let i = 0; i < body.length; i += 4096) res.write(body.subarray(i, i + 4096))
      res.end()
    })
    const dest = join(dir, 'lavra.json')
    const out = await client([interp(s)]).download(QUERY, dest)

    expect(out).toEqual({ bytes: body.length, endpoint: interp(s), tries: 1 })
    expect(readFileSync(dest).equals(body)).toBe(true)
    expect(leftovers()).toEqual(['lavra.json'])
    expect(s.seen).toHaveLength(1)
    const req = s.seen[0]!
    expect(req.method).toBe('POST')
    expect(req.headers['user-agent']).toMatch(
      /^gorod-ingest\/0\.1\.0 \(\+https:\/\/gorod\.example\/contact\)$/,
    )
    expect(req.headers.accept).toBe('application/json')
    expect(new URLSearchParams(req.body).get('data')).toBe(QUERY)
    // The query is identified in the logs, never copied into them.
    expect(JSON.stringify(logLines)).not.toContain('timeout:25')
  })
})

describe('OverpassClient', () => {
  it('after a 429 asks /api/status, waits for the announced slot and retries the same endpoint', async () => {
    const s = await server((req, res, n) => {
      if (req.method === 'GET' && req.path === '/api/status') {
        res.end(
          'Connected as: 1\nCurrent time: 2026-11-28T10:00:00Z\nRate limit: 2\nSlot available after: 2026-11-28T10:00:01Z, in 1 seconds.\nCurrently running queries (pid, space limit, time limit, start time):\n',
        )
      } else if (n === 1) {
        res.writeHead(429, { 'Content-Type': 'text/html' }).end('<p>Too Many Requests</p>')
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(SMALL)
      }
    })
    const other = await server((_req, res) => res.end(SMALL))
    const out = await client([interp(s), interp(other)]).download(QUERY, join(dir, 'a.json'))

    expect(out).toMatchObject({ endpoint: interp(s), tries: 2 })
    expect(s.seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/interpreter',
      'GET /api/status',
      'POST /api/interpreter',
    ])
    expect(s.seen[1]!.headers['user-agent']).toMatch(/^gorod-ingest\//)
    expect(other.seen).toHaveLength(0)
    const retry = logLines.find((l) => l.msg === 'overpass try failed, retrying')
    expect(retry).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', endpoint: interp(s) })
    expect(retry!.waitMs as number).toBeGreaterThanOrEqual(1_000)
  })

  it('does not wait longer than the cap: an announced slot too far away means backing off to the next endpoint', async () => {
    const s = await server((req, res) => {
      if (req.method === 'GET')
        res.end('Rate limit: 1\nSlot available after: 2026-11-28T10:10:00Z, in 600 seconds.\n')
      else res.writeHead(429).end()
    })
    const b = await server((_req, res) => res.end(SMALL))
    const out = await client([interp(s), interp(b)]).download(QUERY, join(dir, 'a.json'))
    expect(out).toMatchObject({ endpoint: interp(b), tries: 2 })
  })

  it('fails over to the next endpoint after a 504', async () => {
    const a = await server((_req, res) => res.writeHead(504).end('Gateway Timeout'))
    const b = await server((_req, res) => res.end(SMALL))
    const dest = join(dir, 'a.json')
    const out = await client([interp(a), interp(b)]).download(QUERY, dest)

    expect(out).toEqual({ bytes: SMALL.length, endpoint: interp(b), tries: 2 })
    expect(readFileSync(dest, 'utf8')).toBe(SMALL)
    expect(a.seen).toHaveLength(1)
    expect(b.seen).toHaveLength(1)
  })

  it('fails over when an endpoint refuses connections', async () => {
    const gone = await server((_req, res) => res.end())
    const goneUrl = interp(gone)
    await gone.close()
    servers = servers.filter((x) => x !== gone)
    const b = await server((_req, res) => res.end(SMALL))
    const out = await client([goneUrl, interp(b)]).download(QUERY, join(dir, 'a.json'))
    expect(out).toMatchObject({ endpoint: interp(b), tries: 2 })
  })

  it('never takes a runtime-error remark for data: retries, then fails with UPSTREAM_RUNTIME_ERROR', async () => {
    const a = await server((_req, res) => res.end(TIMED_OUT))
    const b = await server((_req, res) => res.end(TIMED_OUT))
    const dest = join(dir, 'a.json')
    const err = await failure(client([interp(a), interp(b)], { maxTries: 3 }).download(QUERY, dest))

    expect(err.code).toBe('UPSTREAM_RUNTIME_ERROR')
    expect(err.message).toContain('Query timed out')
    expect(err.retryable).toBe(true)
    expect(err.tries).toBe(3)
    expect(a.seen.length + b.seen.length).toBe(3)
    expect(b.seen).toHaveLength(1)
    expect(leftovers()).toEqual([])
  })

  it('rejects an answer cut mid-JSON and leaves no file behind', async () => {
    const half = SMALL.slice(0, 40)
    const s = await server((_req, res, n) => {
      if (n === 1) {
        // Connection dropped in the middle of a chunked answer.
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.write(half, () => res.socket?.destroy())
      } else {
        // Close-delimited answer that simply ends early: only the content shows it.
        res.socket?.end(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${half}`,
        )
      }
    })
    const dest = join(dir, 'a.json')
    const err = await failure(client([interp(s)], { maxTries: 2 }).download(QUERY, dest))

    expect(err.code).toBe('UPSTREAM_INVALID_RESPONSE')
    expect(s.seen).toHaveLength(2)
    expect(existsSync(dest)).toBe(false)
    expect(existsSync(`${dest}.part`)).toBe(false)
    expect(leftovers()).toEqual([])
  })

  it('aborts an answer whose body stalls after the headers: UPSTREAM_TIMEOUT', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.write('{"version": 0.6, "elements": [')
    })
    const err = await failure(
      client([interp(s)], { maxTries: 1, idleTimeoutMs: 150 }).download(QUERY, join(dir, 'a.json')),
    )
    expect(err.code).toBe('UPSTREAM_TIMEOUT')
    expect(err.retryable).toBe(true)
    expect(s.seen).toHaveLength(1)
    expect(leftovers()).toEqual([])
  })

  it('aborts a server that never answers within the query timeout: UPSTREAM_TIMEOUT', async () => {
    const s = await server(() => {})
    const err = await failure(
      client([interp(s)], { maxTries: 2, timeoutSeconds: 0.2, timeoutMarginMs: 0 }).download(
        QUERY,
        join(dir, 'a.json'),
      ),
    )
    expect(err.code).toBe('UPSTREAM_TIMEOUT')
    expect(err.tries).toBe(2)
    expect(s.seen).toHaveLength(2)
  })

  it('stops an oversized answer at the byte limit and does not ask again', async () => {
    const big = JSON.stringify({
      elements: Array.from({ length: 2_000 }, (_, i) => ({ type: 'node', id: i })),
    })
    const streamed = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      for (let i = 0; i < big.length; i += 1000) res.write(big.slice(i, i + 1000))
      res.end()
    })
    const announced = await server((_req, res) => res.end(big))
    for (const s of [streamed, announced]) {
      const err = await failure(client([interp(s)], { maxBytes: 5_000 }).download(QUERY, join(dir, 'a.json')))
      expect(err.code).toBe('UPSTREAM_TOO_LARGE')
      expect(err.retryable).toBe(false)
      expect(s.seen).toHaveLength(1)
    }
    expect(leftovers()).toEqual([])
  })

  it('reports a rejected query as permanent, with the server explanation, after one request', async () => {
    const s = await server((_req, res) =>
      res
        .writeHead(400, { 'Content-Type': 'text/html' })
        .end(
          '<html><body><p><strong>Error</strong>: line 1: parse error: Unknown type "nod"</p></body></html>',
        ),
    )
    const err = await failure(client([interp(s)]).download('nod(1);out;', join(dir, 'a.json')))
    expect(err.code).toBe('UPSTREAM_INVALID_RESPONSE')
    expect(err.retryable).toBe(false)
    expect(err.message).toContain('parse error: Unknown type "nod"')
    expect(s.seen).toHaveLength(1)
  })

  it('rejects a 200 that is not JSON', async () => {
    const s = await server((_req, res) => res.end('<?xml version="1.0"?><osm></osm>'))
    const err = await failure(client([interp(s)]).download(QUERY, join(dir, 'a.json')))
    expect(err.code).toBe('UPSTREAM_INVALID_RESPONSE')
    expect(leftovers()).toEqual([])
  })

  it('makes exactly maxTries requests over all endpoints, round robin, when all are overloaded', async () => {
    const a = await server((_req, res) => res.writeHead(503).end())
    const b = await server((_req, res) => res.writeHead(502).end())
    const err = await failure(
      client([interp(a), interp(b)], { maxTries: 3 }).download(QUERY, join(dir, 'a.json')),
    )
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(err.retryable).toBe(true)
    expect(err.tries).toBe(3)
    expect(posts(a)).toHaveLength(2)
    expect(posts(b)).toHaveLength(1)
  })

  it('stops waiting when the caller cancels', async () => {
    const s = await server((_req, res) => res.writeHead(503).end())
    const ctrl = new AbortController()
    const p = client([interp(s)], { maxTries: 5, backoff: { baseMs: 60_000, maxMs: 60_000 } }).download(
      QUERY,
      join(dir, 'a.json'),
      ctrl.signal,
    )
    setTimeout(() => ctrl.abort(new Error('job cancelled')), 100)
    await expect(p).rejects.toThrow('job cancelled')
    expect(s.seen).toHaveLength(1)
  })
})
