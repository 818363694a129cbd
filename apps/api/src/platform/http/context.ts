import type { Config } from '../../config.js'
import type { Clock } from '../clock.js'
import type { Database } from '../db/client.js'
import type { JobQueue } from '../jobs/queue.js'
import type { JobHandlers } from '../jobs/types.js'
import type { Logger } from '../log.js'
import type { ContractObserver } from './response-contract.js'

/** What handlers receive through `c.var.deps`: never imported globals, so tests hand in their own. */
export interface AppDeps {
  config: Config
  database: Database
  log: Logger
  clock: Clock
  version: string
  startedAt: number
  /** Absent only in processes that serve no job routes (e.g. some tests); routes that need it say so. */
  jobs?: JobQueue
  /** What a QStash callback runs; present where this process executes runs. */
  jobHandlers?: JobHandlers
  /** Sees every answer checked against the contract (the test suite); VALIDATE_RESPONSES logs instead. */
  contractObserver?: ContractObserver
}

export interface Tenant {
  id: number
  slug: string
  name: string
}

export interface AppEnv {
  Variables: {
    deps: AppDeps
    log: Logger
    requestId: string
    tenant: Tenant
  }
}
