import type { Config } from '../../config.js'
import type { KeyRing } from '../auth/key-ring.js'
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
  /** Token signing keys, loaded at start; absent: loaded once on first use (outside any transaction). */
  keyRing?: KeyRing
  /** Sees every answer checked against the contract (the test suite); VALIDATE_RESPONSES logs instead. */
  contractObserver?: ContractObserver
}

export interface Tenant {
  id: number
  slug: string
  name: string
}

/** The account a valid access token names, bound to the tenant of the request. */
export interface AccountRef {
  accountId: string
  tenantId: number
  tenantSlug: string
}

/**
 * The operator behind an admin request: a named one (ADMIN_TOKENS) acts under its own name; the
 * shared ADMIN_API_TOKEN is `named: false`, and its actions are recorded under the body's `by`.
 */
export interface Operator {
  name: string
  named: boolean
}

export interface AppEnv {
  Variables: {
    deps: AppDeps
    log: Logger
    requestId: string
    tenant: Tenant
    /** Set by requireAccount (always) and optionalAccount (when a token was sent). */
    account: AccountRef
    /** Set by requireAdmin: who is acting on an operator route. */
    operator: Operator
  }
}
