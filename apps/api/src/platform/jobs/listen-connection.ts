import pg from 'pg'
import type { Logger } from '../log.js'

const MAX_BACKOFF_MS = 30_000

/**
 * A dedicated LISTEN session for pg-boss's wake-ups, reconnecting with backoff. Its `error` listener
 * stays attached for the connection's whole life: a server that terminates the session (failover,
 * `pg_terminate_backend`) may deliver its FATAL message after the socket has already ended, and an
 * error emitted with no listener would take the process down.
 */
export async function listenConnection(
  connectionString: string,
  channel: string,
  onNotification: (payload: string) => void,
  onReconnect: () => void,
  log: Logger,
): Promise<{ close(): Promise<void> }> {
  let closed = false
  let current: pg.Client | null = null
  let timer: NodeJS.Timeout | null = null
  let attempt = 0
  let established = false

  const drop = (client: pg.Client, reason: unknown) => {
    if (current !== client) return
    current = null
    client.end().catch(() => {})
    // Before the first success the caller (pg-boss) gets the error and falls back to polling.
    if (closed || !established) return
    log.warn(
      { err: (reason as Error)?.message ?? String(reason) },
      'job wake-up connection lost; reconnecting',
    )
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 6))
    attempt += 1
    timer = setTimeout(() => {
      timer = null
      // A failed connect has already scheduled the next try (drop above).
      connect().catch(() => {})
    }, backoff)
    timer.unref()
  }

  const connect = async () => {
    if (closed) return
    const client = new pg.Client({ connectionString, keepAlive: true, application_name: 'gorod-jobs-listen' })
    client.on('error', (err) => drop(client, err))
    client.on('end', () => drop(client, new Error('connection ended')))
    client.on('notification', (msg) => {
      if (msg.channel === channel && msg.payload !== undefined) onNotification(msg.payload)
    })
    current = client
    try {
      await client.connect()
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
    } catch (err) {
      drop(client, err)
      throw err
    }
    attempt = 0
    established = true
    onReconnect()
  }

  await connect()
  return {
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      const client = current
      current = null
      await client?.end().catch(() => {})
    },
  }
}
