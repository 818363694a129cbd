import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answerClientErrors } from '../../src/platform/http/client-error.js'
import { createTestApp, type TestApp } from '../helpers/test-app.js'

/** Sends raw bytes and reads everything until the server closes the connection. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c) => chunks.push(c))
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.on('error', reject)
    socket.write(bytes)
  })
}

function parse(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: JSON.parse(body) as Record<string, unknown>,
  }
}

describe("requests Node's HTTP parser refuses are answered as problems", () => {
  let t: TestApp
  let server: Server
  let port: number
  beforeAll(async () => {
    t = await createTestApp()
    server = createAdaptorServer({ fetch: t.app.fetch }) as Server
    answerClientErrors(server, t.deps.log)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
    await t.close()
  })

  const cases: Array<[string, string, number, string]> = [
    [
      'a 20 KB query string',
      `GET /v1/api/health?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    [
      'a 20 KB header',
      `GET /v1/api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    ['a garbage request line', 'HELLO WORLD\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    [
      'a Content-Length that is not a number',
      'POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'both Transfer-Encoding and Content-Length',
      'POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
  ]

  it.each(cases)('%s → problem+json, Connection: close', async (_name, bytes, status, code) => {
    const answer = parse(await raw(port, bytes))
    expect(answer.status).toBe(status)
    expect(answer.headers['content-type']).toBe('application/problem+json')
    expect(answer.headers.connection).toBe('close')
    expect(answer.body).toMatchObject({ status, code, request_id: answer.headers['x-request-id'] })
    expect(String(answer.body.title)).toMatch(/[А-Яа-я]/)
  })

  it('a well-formed request on the same server is still served', async () => {
    const answer = await raw(port, 'GET /v1/api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK')
  })
})
