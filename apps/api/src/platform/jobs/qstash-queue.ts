import { createHash } from 'node:crypto'
import { Client, QstashError, Receiver } from '@upstash/qstash'
import type { Config } from '../../config.js'
import type { Logger } from '../log.js'
import type { JobQueue } from './queue.js'

export const CALLBACK_PATH = '/v1/jobs/callback'

type QStashConfig = NonNullable<Config['jobs']['qstash']>

/** QStash's deduplication id for a run: derived from the run id, so a re-publish is dropped by QStash. */
export function deduplicationId(runId: string, slice?: number): string {
  return createHash('sha256')
    .update(slice === undefined ? runId : `${runId}#${slice}`)
    .digest('hex')
    .slice(0, 40)
}

/**
 * The serverless transport: QStash calls `POST /v1/jobs/callback` (signed) once per delivery and
 * retries on 5xx. It cannot join a database transaction, so a new run is published after commit.
 */
export function createQStashQueue(
  qstash: QStashConfig,
  opts: { log: Logger; maxAttempts: number; fetch?: typeof fetch },
): JobQueue {
  const client = new Client({
    // Never let the SDK switch to its local dev server or dev keys from the environment.
    devMode: false,
    token: qstash.token,
    ...(qstash.url ? { baseUrl: qstash.url } : {}),
    // The SDK retries only when fetch throws, never on a 5xx answer: `publish` retries both itself.
    retry: false,
  })
  const callbackUrl = `${qstash.publicBaseUrl}${CALLBACK_PATH}`
  let slices = 0

  const publish = async (runId: string, dedup: string, delaySeconds?: number) => {
    // A retried publish keeps its deduplication id, so QStash drops it if an earlier try did go through.
    const res = await withRetries(() =>
      client.publishJSON({
        url: callbackUrl,
        body: { run_id: runId },
        deduplicationId: dedup,
        retries: Math.max(0, opts.maxAttempts - 1),
        ...(delaySeconds ? { delay: delaySeconds } : {}),
      }),
    )
    opts.log.info(
      { run_id: runId, message_id: (res as { messageId?: string }).messageId },
      'run published to QStash',
    )
  }

  return {
    transport: 'qstash',
    async dispatch() {},
    async afterCommit(runId: string) {
      await publish(runId, deduplicationId(runId))
    },
    async redeliver(runId: string, delaySeconds?: number) {
      // Each re-publish of a run (next slice, reaped run) needs its own id, or QStash drops it as a duplicate.
      slices += 1
      await publish(runId, deduplicationId(runId, Date.now() * 1000 + slices), delaySeconds)
    },
    async stop() {},
  }
}

/** A network error, a 429 or a 5xx from the QStash API is worth another try; a 4xx is not. */
async function withRetries<T>(call: () => Promise<T>, retries = 3): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await call()
    } catch (err) {
      const status = err instanceof QstashError ? (err.status ?? 0) : undefined
      const retryable = status === undefined || status === 429 || status >= 500
      if (!retryable || n >= retries) throw err
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** n)))
    }
  }
}

/** Verifies `Upstash-Signature` over the raw body and the URL it was sent to; false when it does not hold. */
export function createSignatureVerifier(qstash: Pick<QStashConfig, 'currentSigningKey' | 'nextSigningKey'>) {
  const receiver = new Receiver({
    devMode: false,
    currentSigningKey: qstash.currentSigningKey,
    nextSigningKey: qstash.nextSigningKey,
  })
  return async (signature: string, body: string, url: string): Promise<boolean> => {
    try {
      return await receiver.verify({ signature, body, url, clockTolerance: 5 })
    } catch {
      return false
    }
  }
}
