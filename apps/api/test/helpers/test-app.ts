import { Writable } from 'node:stream'
import { createApp } from '../../src/app.js'
import { buildDeps } from '../../src/bootstrap.js'
import { type Config, configFrom } from '../../src/config.js'
import type { AppDeps } from '../../src/platform/http/context.js'
import { createLogger, type Logger } from '../../src/platform/log.js'
import { testContractObserver } from './response-validation.js'
import { createTestDatabase, type TestDatabase } from './test-db.js'

export const DEV_KEYS = { gorod: 'dev-gorod-app-key', progulki: 'dev-progulki-app-key' } as const
export const ADMIN_TOKEN = 'test-admin-token-0123456789'

/** Every log line the app wrote, parsed, so tests can assert what was (and was not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
    done()
  }
  get records(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  }
  get text(): string {
    return this.lines.join('\n')
  }
}

export interface TestApp {
  app: ReturnType<typeof createApp>
  deps: AppDeps
  database: TestDatabase
  logs: LogCapture
  close(): Promise<void>
}

export async function createTestApp(
  env: Record<string, string | undefined> = {},
  /** Extra deps, or a function that builds them from the app's config and (captured) logger. */
  extra: Partial<AppDeps> | ((config: Config, log: Logger) => Partial<AppDeps>) = {},
  database?: TestDatabase,
): Promise<TestApp> {
  const config = configFrom({ ADMIN_API_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info', ...env })
  const logs = new LogCapture()
  const log = createLogger(config.logLevel, logs)
  const db = database ?? (await createTestDatabase())
  const deps = buildDeps(config, db, log, {
    contractObserver: testContractObserver(),
    ...(typeof extra === 'function' ? extra(config, log) : extra),
  })
  return {
    app: createApp(deps),
    deps,
    database: db,
    logs,
    async close() {
      await deps.jobs?.stop()
      if (!database) await db.close()
    },
  }
}
