import { randomUUID } from 'node:crypto'
import { sql, type Transaction } from 'kysely'
import { enterTenant, issueAccessToken, keyRingOf, withTenant } from '../../platform/auth/index.js'
import { isUniqueViolation } from '../../platform/db/errors.js'
import type { DB } from '../../platform/db/schema.js'
import type { AppDeps, Tenant } from '../../platform/http/context.js'
import { AppError } from '../../platform/http/errors.js'
import { newAccountCode } from './account-code.js'
import { hashRefreshToken, newRefreshToken } from './refresh-token.js'

export type AccountDeps = Pick<AppDeps, 'database' | 'config' | 'clock' | 'keyRing' | 'log'> & {
  jobs?: AppDeps['jobs']
}

export interface TokenPair {
  access_token: string
  refresh_token: string
  token_type: 'Bearer'
  expires_in: number
}

/** Stores a new refresh token of `familyId` and signs an access token; runs inside the tenant transaction. */
async function issuePair(
  deps: AccountDeps,
  trx: Transaction<DB>,
  tenant: Tenant,
  accountId: string,
  familyId: string,
): Promise<TokenPair> {
  const { auth } = deps.config
  const now = deps.clock.now()
  const refresh = newRefreshToken()
  await trx
    .insertInto('refresh_token')
    .values({
      tenant_id: tenant.id,
      account_id: accountId,
      family_id: familyId,
      token_hash: refresh.hash,
      expires_at: new Date(now.getTime() + auth.refreshTtlDays * 86_400_000),
    })
    .execute()
  // The key ring was loaded before the transaction began (see createAccount/refresh): no pool use here.
  const ring = await keyRingOf(deps)
  const access = await issueAccessToken(
    ring,
    { accountId, tenantSlug: tenant.slug },
    { audience: auth.audience, ttlSeconds: auth.accessTtlSeconds, now },
  )
  return {
    access_token: access,
    refresh_token: refresh.token,
    token_type: 'Bearer',
    expires_in: auth.accessTtlSeconds,
  }
}

/** An anonymous account of the tenant and its first token pair. */
export async function createAccount(deps: AccountDeps, tenant: Tenant) {
  await keyRingOf(deps)
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTenant(deps.database.db, tenant.id, async (trx) => {
        const account = await trx
          .insertInto('account')
          .values({ tenant_id: tenant.id, account_code: newAccountCode() })
          .returning(['id', 'account_code', 'created_at'])
          .executeTakeFirstOrThrow()
        const pair = await issuePair(deps, trx, tenant, account.id, randomUUID())
        return { account_id: account.id, account_code: account.account_code!, ...pair }
      })
    } catch (err) {
      // 60 random bits collide almost never; when they do, draw again.
      if (!isUniqueViolation(err) || attempt >= 3) throw err
    }
  }
}

const invalidRefresh = () =>
  new AppError('REFRESH_TOKEN_INVALID', 'Токен обновления недействителен: войдите заново (создайте аккаунт)')

/**
 * Rotation: the presented token is spent (used_at set by a guarded UPDATE, so two concurrent uses
 * cannot both win) and a new one of the same family is issued. A spent token presented again means
 * it was copied: the whole family is revoked and the caller gets 401.
 */
export async function refreshTokens(deps: AccountDeps, tenant: Tenant, token: string): Promise<TokenPair> {
  await keyRingOf(deps)
  const hash = hashRefreshToken(token)
  const result = await withTenant(deps.database.db, tenant.id, async (trx) => {
    const row = await trx
      .selectFrom('refresh_token as r')
      .innerJoin('account as a', 'a.id', 'r.account_id')
      .select(['r.id', 'r.account_id', 'r.family_id', 'r.expires_at', 'r.revoked_at', 'a.deleted_at'])
      .where('r.token_hash', '=', hash)
      .executeTakeFirst()
    if (!row || row.revoked_at || row.deleted_at || row.expires_at <= deps.clock.now()) return null
    const spent = await trx
      .updateTable('refresh_token')
      .set({ used_at: sql`now()` })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .executeTakeFirst()
    if (spent.numUpdatedRows === 0n) {
      await trx
        .updateTable('refresh_token')
        .set({ revoked_at: sql`now()` })
        .where('family_id', '=', row.family_id)
        .where('revoked_at', 'is', null)
        .execute()
      await trx
        .insertInto('audit_event')
        .values({ tenant_id: tenant.id, kind: 'refresh_reuse', details: JSON.stringify({}) })
        .execute()
      return 'reused' as const
    }
    return issuePair(deps, trx, tenant, row.account_id, row.family_id)
  })
  if (result === 'reused') {
    deps.log.warn({ tenant: tenant.slug }, 'refresh token reused: its family is revoked')
    throw invalidRefresh()
  }
  if (!result) throw invalidRefresh()
  return result
}

export async function accountView(deps: AccountDeps, tenant: Tenant, accountId: string) {
  const row = await withTenant(deps.database.db, tenant.id, (trx) =>
    trx.selectFrom('account').selectAll().where('id', '=', accountId).executeTakeFirst(),
  )
  if (!row || row.deleted_at) throw new AppError('ACCOUNT_INACTIVE', 'Аккаунт удалён')
  return {
    account_id: row.id,
    account_code: row.account_code!,
    tenant: tenant.slug,
    created_at: row.created_at.toISOString(),
  }
}

/** Everything held about the account, for the right of access. */
export async function exportAccount(deps: AccountDeps, tenant: Tenant, accountId: string) {
  const me = await accountView(deps, tenant, accountId)
  return withTenant(deps.database.db, tenant.id, async (trx) => {
    const tokens = await trx
      .selectFrom('refresh_token')
      .select(['family_id', 'created_at', 'expires_at', 'used_at', 'revoked_at'])
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .execute()
    const purchases = await trx
      .selectFrom('store_transactions')
      .select(['store', 'environment', 'store_transaction_id', 'product_id', 'purchased_at', 'recorded_at'])
      .where('account_id', '=', accountId)
      .where('tenant_id', '=', tenant.id)
      .orderBy('recorded_at')
      .execute()
    const iso = (d: Date | null) => d?.toISOString() ?? null
    return {
      exported_at: deps.clock.now().toISOString(),
      account: me,
      refresh_tokens: tokens.map((t) => ({
        family_id: t.family_id,
        created_at: t.created_at.toISOString(),
        expires_at: t.expires_at.toISOString(),
        used_at: iso(t.used_at),
        revoked_at: iso(t.revoked_at),
      })),
      purchases: purchases.map((p) => ({
        store: p.store,
        environment: p.environment,
        store_transaction_id: p.store_transaction_id,
        product_id: p.product_id,
        purchased_at: iso(p.purchased_at),
        recorded_at: p.recorded_at.toISOString(),
      })),
    }
  })
}

export const PURGE_JOB_TYPE = 'account_purge'

/**
 * Tombstones the account and records its purge run in one transaction: from the commit on, its
 * tokens fail (access tokens are checked against the row, refresh tokens are revoked). The run
 * carries no account id: its handler finds the account by `purge_run_id`. Repeating the deletion
 * answers the same run.
 */
export async function deleteAccount(
  deps: AccountDeps,
  tenant: Tenant,
  accountId: string,
  via: 'app' | 'web',
): Promise<{ jobId: string; already: boolean }> {
  const { db } = deps.database
  const existing = await withTenant(db, tenant.id, (trx) =>
    trx
      .selectFrom('account')
      .select(['deleted_at', 'purge_run_id'])
      .where('id', '=', accountId)
      .executeTakeFirst(),
  )
  if (!existing) throw new AppError('ACCOUNT_INACTIVE', 'Аккаунт не найден')
  if (existing.deleted_at && existing.purge_run_id) return { jobId: existing.purge_run_id, already: true }

  const today = deps.clock.now().toISOString().slice(0, 10)
  const created = await db
    .transaction()
    .execute(async (trx) => {
      const run = await trx
        .insertInto('ingestion_run')
        .values({
          type: PURGE_JOB_TYPE,
          city_id: null,
          boundary_ref: '',
          run_date: today,
          idempotency_key: `${PURGE_JOB_TYPE}|tenant:${tenant.slug}|${randomUUID()}|${today}`,
          source: JSON.stringify({ kind: 'account_deletion', tenant: tenant.slug, via }),
          trigger: 'admin',
          max_attempts: deps.config.jobs.maxAttempts,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      if (deps.jobs) await deps.jobs.dispatch(run.id, trx)
      // From here on the transaction runs under the tenant's row-level security.
      await enterTenant(trx, tenant.id)
      const tombstoned = await trx
        .updateTable('account')
        .set({ deleted_at: sql`now()`, purge_run_id: run.id })
        .where('id', '=', accountId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst()
      // A concurrent deletion won: roll back, so no idle run is left behind.
      if (tombstoned.numUpdatedRows === 0n) throw new LostDeletionRace()
      await trx
        .updateTable('refresh_token')
        .set({ revoked_at: sql`now()` })
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .execute()
      await trx
        .insertInto('audit_event')
        .values({
          tenant_id: tenant.id,
          kind: 'account_deleted',
          details: JSON.stringify({ via, job_id: run.id }),
        })
        .execute()
      return run.id
    })
    .catch((err) => {
      if (err instanceof LostDeletionRace) return null
      throw err
    })
  if (created) {
    await deps.jobs?.afterCommit(created)
    return { jobId: created, already: false }
  }
  const winner = await withTenant(db, tenant.id, (trx) =>
    trx.selectFrom('account').select('purge_run_id').where('id', '=', accountId).executeTakeFirst(),
  )
  return { jobId: winner!.purge_run_id!, already: true }
}

class LostDeletionRace extends Error {}
