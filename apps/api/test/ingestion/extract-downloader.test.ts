import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type DownloadExtractOptions,
  downloadExtract,
} from '../../src/modules/ingestion/sources/extract-downloader.js'
import { ingestUserAgent, UpstreamError } from '../../src/modules/ingestion/sources/upstream-error.js'
import { createLogger } from '../../src/platform/log.js'
import { describeWithOsmData, osmFile } from '../helpers/osm-data.js'
import { type LocalServer, startLocalServer } from './local-http-server.js'

let dir: string
let servers: LocalServer[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gorod-extract-'))
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

const opts = (over: Partial<DownloadExtractOptions> = {}): DownloadExtractOptions => ({
  maxBytes: 50_000_000,
  timeoutSeconds: 5,
  idleTimeoutMs: 2_000,
  userAgent: ingestUserAgent('0.1.0', 'https://gorod.example/contact'),
  log: createLogger('silent'),
  backoff: { baseMs: 10, maxMs: 20 },
  ...over,
})

function serveFile(bytes: Buffer, contentType = 'application/octet-stream') {
  return server((_req, res) => {
    res.writeHead(200, { 'Content-Type': contentType })
    for (let i = 0; i < bytes.length; i += 16_384) res.write(bytes.subarray(i, i + 16_384))
    res.end()
  })
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  )
}

describeWithOsmData('downloadExtract with the shared extracts', () => {
  it.each([
    ['sergiev-posad-lavra-2020.osm.pbf', 'pbf', 'lavra.osm.pbf'],
    ['sergiev-posad-lavra-2020.osm', 'xml', 'lavra.osm'],
    ['moscow-ostankino-2013.osm.gz', 'xml.gz', 'lavra.osm.gz'],
  ] as const)('downloads %s and recognises it as %s from its bytes', async (name, format, saved) => {
    const bytes = readFileSync(osmFile(name))
    const s = await serveFile(bytes)
    // Every file is served under a .osm.pbf URL: the name and format come from the content.
    const out = await downloadExtract(`${s.url}/extracts/lavra.osm.pbf?token=x`, dir, opts())

    expect(out).toEqual({ path: join(dir, saved), bytes: bytes.length, format })
    expect(readFileSync(out.path).equals(bytes)).toBe(true)
    expect(readdirSync(dir)).toEqual([saved])
    expect(s.seen).toHaveLength(1)
    expect(s.seen[0]!.headers['user-agent']).toMatch(/^gorod-ingest\/0\.1\.0 \(\+/)
  })

  it('retries a 503 and then succeeds', async () => {
    const bytes = readFileSync(osmFile('sergiev-posad-lavra-2020.osm.pbf'))
    const s = await server((_req, res, n) => {
      if (n === 1) res.writeHead(503, { 'Retry-After': '1' }).end('Service Unavailable')
      else res.end(bytes)
    })
    const out = await downloadExtract(`${s.url}/central-fed-district-latest.osm.pbf`, dir, opts())
    expect(out.format).toBe('pbf')
    expect(out.path).toBe(join(dir, 'central-fed-district-latest.osm.pbf'))
    expect(s.seen).toHaveLength(2)
  })

  it('stops at the byte limit', async () => {
    const s = await serveFile(readFileSync(osmFile('sergiev-posad-lavra-2020.osm.pbf')))
    const err = await failure(downloadExtract(`${s.url}/x.osm.pbf`, dir, opts({ maxBytes: 20_000 })))
    expect(err).toBeInstanceOf(UpstreamError)
    expect((err as UpstreamError).code).toBe('UPSTREAM_TOO_LARGE')
    expect(s.seen).toHaveLength(1)
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('downloadExtract', () => {
  it('refuses an HTML page served with 200, permanently, and keeps nothing', async () => {
    const s = await serveFile(
      Buffer.from(
        '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please log in</body></html>',
      ),
      'text/html',
    )
    const err = await failure(downloadExtract(`${s.url}/russia-latest.osm.pbf`, dir, opts()))
    expect(err).toBeInstanceOf(UpstreamError)
    expect(err).toMatchObject({ code: 'UPSTREAM_INVALID_RESPONSE', retryable: false })
    expect((err as Error).message).toContain('text/html')
    expect(s.seen).toHaveLength(1)
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses an XML document that is not OSM data', async () => {
    const s = await serveFile(Buffer.from('<?xml version="1.0"?>\n<Error><Code>NoSuchKey</Code></Error>'))
    const err = await failure(downloadExtract(`${s.url}/a.osm`, dir, opts()))
    expect(err).toMatchObject({ code: 'UPSTREAM_INVALID_RESPONSE', retryable: false })
  })

  it('does not retry a 404', async () => {
    const s = await server((_req, res) => res.writeHead(404).end('Not Found'))
    const err = await failure(downloadExtract(`${s.url}/missing.osm.pbf`, dir, opts()))
    expect(err).toMatchObject({ code: 'UPSTREAM_INVALID_RESPONSE', retryable: false, tries: 1 })
    expect(s.seen).toHaveLength(1)
  })

  it('gives up after maxTries transient failures', async () => {
    const s = await server((_req, res) => res.writeHead(502).end())
    const err = await failure(downloadExtract(`${s.url}/a.osm.pbf`, dir, opts({ maxTries: 3 })))
    expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true, tries: 3 })
    expect(s.seen).toHaveLength(3)
  })

  it('aborts a stalled transfer', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200)
      res.write(Buffer.from([0, 0, 0, 13, 0x0a, 9]))
    })
    const err = await failure(
      downloadExtract(`${s.url}/a.osm.pbf`, dir, opts({ maxTries: 1, idleTimeoutMs: 150 })),
    )
    expect(err).toMatchObject({ code: 'UPSTREAM_TIMEOUT' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('accepts only http and https URLs', async () => {
    await expect(downloadExtract('file:///etc/passwd', dir, opts())).rejects.toThrow(TypeError)
    await expect(downloadExtract('ftp://example.org/a.osm.pbf', dir, opts())).rejects.toThrow(/http or https/)
  })
})
