import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fetchToFile } from '../../src/modules/ingestion/sources/fetch-to-file.js'
import { OverpassClient } from '../../src/modules/ingestion/sources/overpass-client.js'
import { ingestUserAgent, UpstreamError } from '../../src/modules/ingestion/sources/upstream-error.js'
import { createLogger } from '../../src/platform/log.js'
import { type LocalServer, startLocalServer } from './local-http-server.js'

/**
 * The deadlines of an upstream transfer hold whatever the garbage collector and the event loop do:
 * they fire while collections run (a timeout signal combined with `AbortSignal.any` can be collected
 * before it fires, which once left a hung connection waiting for a minute instead of its deadline),
 * and a process too busy to read its socket for longer than the idle deadline does not declare a
 * live upstream silent.
 */

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let dir: string
let servers: LocalServer[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gorod-fetch-'))
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

/** Collects garbage every few milliseconds until stopped. */
function gcPressure(): () => void {
  const t = setInterval(gc, 20)
  return () => clearInterval(t)
}

/** Rejects if `p` has not settled once `guard` is aborted; the guard is the test's own backstop. */
function settledBefore<T>(p: Promise<T>, guard: AbortSignal): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      guard.addEventListener('abort', () => reject(new Error('the deadline never fired')), { once: true }),
    ),
  ])
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure')
    },
    (err) => err,
  )
}

describe('fetchToFile deadlines', () => {
  it('cuts a body that stalls after the headers while garbage is being collected: UPSTREAM_TIMEOUT', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"version":0.6,"elements":[') // never ends
    })
    const caller = new AbortController() // a caller signal, as the worker passes one
    const guard = new AbortController()
    const backstop = setTimeout(() => guard.abort(), 10_000)
    const stop = gcPressure()
    try {
      const err = await rejection(
        settledBefore(
          fetchToFile({
            fetch,
            url: `${s.url}/a`,
            init: {},
            partPath: join(dir, 'a.part'),
            maxBytes: 1_000_000,
            totalMs: 60_000,
            idleMs: 300,
            signal: caller.signal,
          }),
          guard.signal,
        ),
      )
      expect(err).toBeInstanceOf(UpstreamError)
      expect((err as UpstreamError).code).toBe('UPSTREAM_TIMEOUT')
      expect((err as UpstreamError).message).toMatch(/no data for 300 ms/)
    } finally {
      stop()
      clearTimeout(backstop)
    }
  })

  it("passes the caller's cancellation through while garbage is being collected", async () => {
    const s = await server(() => {}) // never answers
    const caller = new AbortController()
    const guard = new AbortController()
    const backstop = setTimeout(() => guard.abort(), 10_000)
    const stop = gcPressure()
    setTimeout(() => caller.abort(new Error('cancelled by the caller')), 200)
    try {
      const err = await rejection(
        settledBefore(
          fetchToFile({
            fetch,
            url: `${s.url}/a`,
            init: {},
            partPath: join(dir, 'a.part'),
            maxBytes: 1_000_000,
            totalMs: 60_000,
            idleMs: 60_000,
            signal: caller.signal,
          }),
          guard.signal,
        ),
      )
      expect((err as Error).message).toBe('cancelled by the caller')
    } finally {
      stop()
      clearTimeout(backstop)
    }
  })

  it('does not call a live upstream silent when this process itself was too busy to read it', async () => {
    const chunks = 20
    const s = await server(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      for (let i = 0; i < chunks; i++) {
        res.write(`${String(i).padStart(4, '0')}\n`)
        await new Promise((r) => setTimeout(r, 25))
      }
      res.end()
    })
    // The server runs in this process too, so block only the client's side of things: once the first
    // chunk is in, the event loop is held for twice the idle deadline (as a long synchronous step of
    // an import would), while the kernel keeps receiving what the server had already sent.
    const path = join(dir, 'a.part')
    let blocked = false
    const fetchThenBlock: typeof fetch = async (input, init) => {
      const res = await fetch(input, init)
      setTimeout(() => {
        blocked = true
        const until = Date.now() + 600
        while (Date.now() < until) {}
      }, 50)
      return res
    }
    const got = await fetchToFile({
      fetch: fetchThenBlock,
      url: `${s.url}/a`,
      init: {},
      partPath: path,
      maxBytes: 1_000_000,
      totalMs: 60_000,
      idleMs: 300,
    })
    expect(blocked).toBe(true)
    expect(got.ok).toBe(true)
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(chunks)
  })
})

describe('Overpass /api/status deadline', () => {
  it('gives up on a status endpoint that never answers, while garbage is being collected', async () => {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
        done()
      },
    })
    let posts = 0
    const s = await server((req, res) => {
      if (req.method !== 'POST') return // /api/status hangs
      posts++
      if (posts === 1) return res.writeHead(429).end('Too Many Requests')
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":0.6,"elements":[]}')
    })
    const client = new OverpassClient({
      urls: [`${s.url}/api/interpreter`],
      timeoutSeconds: 5,
      timeoutMarginMs: 0,
      idleTimeoutMs: 2_000,
      statusTimeoutMs: 300,
      maxBytes: 1_000_000,
      maxTries: 2,
      userAgent: ingestUserAgent('0.1.0', 'https://gorod.example/contact'),
      log: createLogger('info', sink),
      backoff: { baseMs: 10, maxMs: 20 },
    })
    const caller = new AbortController()
    const guard = new AbortController()
    const backstop = setTimeout(() => guard.abort(), 10_000)
    const stop = gcPressure()
    try {
      const got = await settledBefore(
        client.download('[out:json];node(1);out;', join(dir, 'a.json'), caller.signal),
        guard.signal,
      )
      expect(got.tries).toBe(2)
      expect(lines.some((l) => l.msg === 'overpass status unreadable')).toBe(true)
    } finally {
      stop()
      clearTimeout(backstop)
    }
  })
})
