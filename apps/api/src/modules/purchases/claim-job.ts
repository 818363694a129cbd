import { sql } from 'kysely'
import { withTenant } from '../../platform/auth/index.js'
import { AppError } from '../../platform/http/errors.js'
import { type JobHandler, PermanentJobError, TransientJobError } from '../../platform/jobs/types.js'
import { type Proof, type PurchaseDeps, refusedByStore, settle, verifyProof } from './purchases.service.js'
import { StoreError } from './stores/port.js'

/**
 * The `purchase_claim` job: asks the store again about a confirmation it could not decide (still in
 * progress, or unreachable). An answer grants (`confirmed`) or refuses (`refused`, with the store's
 * reason); no answer yet is a transient failure, so the run is retried with backoff. After its last
 * attempt the run is FAILED and the claim keeps waiting: the app's next confirmation or a restore
 * decides it, and an operator can retry the run.
 */
export function purchaseClaimHandler(deps: Omit<PurchaseDeps, 'database' | 'log'>): JobHandler {
  return async (ctx) => {
    const source = ctx.run.source as { kind?: string; tenant?: string }
    if (source.kind !== 'purchase_claim' || !source.tenant)
      throw new PermanentJobError('BAD_CLAIM_SOURCE', 'a purchase_claim run names no tenant')
    const tenant = await ctx.db
      .selectFrom('tenants')
      .select(['id', 'slug', 'name'])
      .where('slug', '=', source.tenant)
      .executeTakeFirst()
    if (!tenant) throw new PermanentJobError('UNKNOWN_TENANT', `tenant ${source.tenant} does not exist`)
    const claim = await withTenant(ctx.db, tenant.id, (trx) =>
      trx
        .selectFrom('purchase_claim')
        .select(['id', 'account_id', 'proof', 'state'])
        .where('run_id', '=', ctx.run.id)
        .executeTakeFirst(),
    )
    // Gone with its account (deleted), or decided by the app's own later confirmation.
    if (!claim) return { status: 'succeeded', stats: { claim: 'gone' } }
    if (claim.state !== 'waiting')
      return { status: 'succeeded', stats: { claim_id: claim.id, state: claim.state } }
    const full: PurchaseDeps = { ...deps, database: { db: ctx.db }, log: ctx.log }
    const proof = claim.proof as Proof
    let state: 'confirmed' | 'refused'
    let reason: string | null = null
    try {
      const tx = await verifyProof(full, tenant, proof)
      if (tx.status === 'pending')
        throw new TransientJobError('STORE_PENDING', 'the store is still processing the payment')
      await settle(full, tenant, claim.account_id, tx, 'reconcile')
      state = tx.status === 'purchased' ? 'confirmed' : 'refused'
      if (state === 'refused') reason = refusedByStore(tx).message
    } catch (err) {
      if (err instanceof StoreError)
        throw new TransientJobError('STORE_UNREACHABLE', err.message, { cause: err })
      if (!(err instanceof AppError) || err.status >= 500) throw err
      state = 'refused'
      reason = err.message
    }
    await withTenant(ctx.db, tenant.id, (trx) =>
      trx
        .updateTable('purchase_claim')
        .set({ state, reason, settled_at: sql<Date>`now()` })
        .where('id', '=', claim.id)
        .where('state', '=', 'waiting')
        .execute(),
    )
    return { status: 'succeeded', stats: { claim_id: claim.id, state, ...(reason ? { reason } : {}) } }
  }
}
