import { randomUUID } from 'node:crypto'
import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../log.js'
import { problemBody } from './problem.js'

/** Node's limit on the request line plus headers (its default `--max-http-header-size`). */
export const MAX_HEADER_BYTES = 16 * 1024

const REASONS: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' }

/**
 * Requests Node's HTTP parser refuses never reach the app: without this, Node writes a bare
 * `400`/`431` with no body and no content type. This answers them as every other 4xx of the service:
 * problem+json with a Russian title and a code, then closes the connection (the parser cannot go on
 * reading a stream it failed to parse).
 */
export function answerClientErrors(server: Pick<Server, 'on'>, log: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A client that went away, or a socket already answered: nothing to write to.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
    const requestId = randomUUID()
    const body = JSON.stringify(
      tooLarge
        ? problemBody(
            'HEADERS_TOO_LARGE',
            `Строка запроса и заголовки вместе длиннее ${MAX_HEADER_BYTES} байт`,
            requestId,
          )
        : problemBody('MALFORMED_REQUEST', 'Запрос не разобран как HTTP/1.1', requestId),
    )
    const status = tooLarge ? 431 : 400
    log.info(
      { request_id: requestId, status, parser_error: err.code ?? 'unknown' },
      'request refused by the HTTP parser',
    )
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    )
  })
}
