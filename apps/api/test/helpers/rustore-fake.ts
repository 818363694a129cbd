import { type KeyObject, randomBytes, verify } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for RuStore's public API, behaving as its documentation describes:
 * `POST /public/auth/` checks the SHA512withRSA signature over keyId + timestamp and the 60 s window
 * and hands out an opaque token with a TTL; `GET /public[/sandbox]/v2/purchase/{invoiceId}` wants a
 * live `Public-Token` (401 "Jwe token is expired" otherwise) and answers the invoice envelope.
 * Knobs make it fail (5xx), stall (slow answers) or expire tokens early.
 */

export interface FakeInvoice {
  invoiceId: number | string
  appId: number
  invoiceStatus: string
  invoiceDate?: string
  developerPayload?: string | null
  orderId?: string
  purchaseId?: string
  productId?: string
  paymentInfo?: { paymentDate?: string } | null
}

export interface RuStoreFake {
  url: string
  invoices: Map<string, FakeInvoice>
  sandboxInvoices: Map<string, FakeInvoice>
  counts: { auth: number; authRejected: number; purchase: number }
  /** Answer the next N requests (any path) with this status and a non-JSON body. */
  failNext(n: number, status?: number): void
  /** Delay every answer by this many milliseconds (0: none). */
  delayMs: number
  /** Token lifetime handed out, in seconds. */
  ttlSeconds: number
  expireAllTokens(): void
  close(): Promise<void>
}

export async function startRuStoreFake(opts: {
  keyId: string
  publicKey: KeyObject | string
  now?: () => number
}): Promise<RuStoreFake> {
  const now = opts.now ?? Date.now
  const tokens = new Map<string, number>()
  let failures: { n: number; status: number } = { n: 0, status: 503 }
  const fake: RuStoreFake = {
    url: '',
    invoices: new Map(),
    sandboxInvoices: new Map(),
    counts: { auth: 0, authRejected: 0, purchase: 0 },
    failNext(n, status = 503) {
      failures = { n, status }
    },
    delayMs: 0,
    ttlSeconds: 900,
    expireAllTokens() {
      for (const key of tokens.keys()) tokens.set(key, 0)
    },
    close: async () => {},
  }

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ timestamp: new Date(now()).toISOString(), ...(body as object) }))
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (fake.delayMs) await new Promise((r) => setTimeout(r, fake.delayMs))
    if (failures.n > 0) {
      failures.n--
      res.writeHead(failures.status, { 'content-type': 'text/html' })
      return res.end('<html>upstream error</html>')
    }
    const url = new URL(req.url ?? '/', 'http://fake')
    if (req.method === 'POST' && url.pathname === '/public/auth/') {
      fake.counts.auth++
      let body: { keyId?: string; timestamp?: string; signature?: string }
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        return json(res, 400, { code: 'ERROR', message: 'Bad request' })
      }
      const at = Date.parse(body.timestamp ?? '')
      if (
        !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/.test(body.timestamp ?? '') ||
        Number.isNaN(at)
      ) {
        fake.counts.authRejected++
        return json(res, 400, { code: 'ERROR', message: 'Invalid timestamp' })
      }
      if (Math.abs(now() - at) > 60_000) {
        fake.counts.authRejected++
        return json(res, 400, { code: 'ERROR', message: 'Range timestamp not valid' })
      }
      const ok =
        body.keyId === opts.keyId &&
        typeof body.signature === 'string' &&
        verify(
          'sha512',
          Buffer.from(body.keyId + body.timestamp),
          opts.publicKey,
          Buffer.from(body.signature, 'base64'),
        )
      if (!ok) {
        fake.counts.authRejected++
        return json(res, 401, { code: 'ERROR', message: 'Signature is not valid' })
      }
      const jwe = `eyJ${randomBytes(24).toString('base64url')}`
      tokens.set(jwe, now() + fake.ttlSeconds * 1000)
      return json(res, 200, { code: 'OK', message: null, body: { jwe, ttl: fake.ttlSeconds } })
    }
    const m = /^\/public\/(sandbox\/)?v2\/purchase\/([^/]+)$/.exec(url.pathname)
    if (req.method === 'GET' && m) {
      fake.counts.purchase++
      const jwe = req.headers['public-token']
      const expiry = typeof jwe === 'string' ? tokens.get(jwe) : undefined
      if (expiry === undefined) return json(res, 401, { code: 'ERROR', message: 'Unauthorized' })
      if (expiry <= now()) return json(res, 401, { code: 'ERROR', message: 'Jwe token is expired' })
      const invoice = (m[1] ? fake.sandboxInvoices : fake.invoices).get(decodeURIComponent(m[2]!))
      if (!invoice) return json(res, 404, { code: 'NOT_FOUND', message: 'Invoice not found', body: null })
      return json(res, 200, {
        code: 'OK',
        message: null,
        body: {
          invoiceDate: new Date(now()).toISOString(),
          refundDate:
            invoice.invoiceStatus.toUpperCase() === 'REFUNDED' ? new Date(now()).toISOString() : null,
          developerPayload: null,
          ownerCode: 42,
          paymentInfo:
            invoice.invoiceStatus.toUpperCase() === 'CREATED'
              ? null
              : { paymentDate: new Date(now()).toISOString() },
          ...invoice,
        },
      })
    }
    json(res, 404, { code: 'NOT_FOUND', message: 'No such method' })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      res.writeHead(500)
      res.end(err.message)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return fake
}
