import { type Kysely, sql } from 'kysely'

/**
 * Server-confirmed purchases (issue 13, ADR 019), on the ledger of 0013 and the entitlements of 0016.
 *
 * - `purchase_intent`: an account's announced purchase of one catalog item in one store. Its id is
 *   what binds the coming store transaction to the account: Apple `appAccountToken`, RuStore
 *   `orderId`. Tenant-scoped under FORCE ROW LEVEL SECURITY like the other account tables.
 * - `purchase_claim`: a confirmation the store could not decide yet (still in progress, or the store
 *   unreachable). It keeps the proof the app sent, so a job can ask the store again later; nothing is
 *   granted until the store says so.
 * - `entitlement` learns which ledger row it comes from (`purchase`, or `restore`: the purchase
 *   moved to another account of the same store customer) and why it ended.
 * - `ingestion_run` learns the two cityless job types that work on purchases: `purchase_claim` (ask
 *   the store again about one claim) and `store_event` (process one store notification).
 */
const TENANT = sql.raw(`nullif(current_setting('app.tenant_id', true), '')::integer`)
const CITYLESS = `('account_purge', 'purchase_claim', 'store_event')`

async function tenantScoped(db: Kysely<any>, table: string): Promise<void> {
  await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE ${sql.table(table)} FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`
    CREATE POLICY ${sql.raw(`${table}_tenant`)} ON ${sql.table(table)}
      USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT})`.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${sql.table(table)} TO gorod_app`.execute(db)
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE purchase_intent (
      id uuid PRIMARY KEY,
      tenant_id integer NOT NULL REFERENCES tenants (id),
      account_id uuid NOT NULL REFERENCES account (id),
      catalog_item_id bigint NOT NULL REFERENCES catalog_item (id),
      store text NOT NULL CHECK (store IN ('apple', 'rustore')),
      product_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      transaction_id bigint REFERENCES store_transactions (id)
    )`.execute(db)
  await sql`
    CREATE INDEX purchase_intent_open ON purchase_intent (account_id, catalog_item_id, store)
      WHERE completed_at IS NULL`.execute(db)
  await tenantScoped(db, 'purchase_intent')

  await sql`
    CREATE TABLE purchase_claim (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id integer NOT NULL REFERENCES tenants (id),
      account_id uuid NOT NULL REFERENCES account (id),
      store text NOT NULL CHECK (store IN ('apple', 'rustore')),
      proof_ref text NOT NULL CHECK (length(proof_ref) BETWEEN 1 AND 200),
      proof jsonb NOT NULL,
      state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'confirmed', 'refused')),
      reason text,
      run_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      settled_at timestamptz
    )`.execute(db)
  // One waiting claim per account and store proof: asking again while it waits finds the same claim.
  await sql`
    CREATE UNIQUE INDEX purchase_claim_waiting ON purchase_claim (account_id, store, proof_ref)
      WHERE state = 'waiting'`.execute(db)
  await tenantScoped(db, 'purchase_claim')
  await sql`GRANT USAGE ON SEQUENCE purchase_claim_id_seq TO gorod_app`.execute(db)

  await sql`ALTER TABLE entitlement DROP CONSTRAINT entitlement_source_check`.execute(db)
  await sql`
    ALTER TABLE entitlement
      ADD COLUMN store_transaction_id bigint REFERENCES store_transactions (id),
      ADD COLUMN ended_reason text CHECK (ended_reason IN ('refunded', 'revoked', 'moved')),
      ADD CONSTRAINT entitlement_source_check
        CHECK (source IN ('free', 'grant', 'purchase', 'restore')),
      ADD CONSTRAINT entitlement_store_check
        CHECK ((source IN ('purchase', 'restore')) = (store_transaction_id IS NOT NULL)),
      ADD CONSTRAINT entitlement_ended_check CHECK (ended_reason IS NULL OR ended_at IS NOT NULL)`.execute(db)
  await sql`
    CREATE INDEX entitlement_transaction ON entitlement (store_transaction_id)
      WHERE store_transaction_id IS NOT NULL`.execute(db)
  // Account deletion removes the entitlements (the ledger stays, its link cut).
  await sql`GRANT DELETE ON entitlement TO gorod_app`.execute(db)

  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish', 'content_import', ${sql.raw(CITYLESS.slice(1, -1))}))`.execute(
    db,
  )
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_city_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_city_check
      CHECK ((city_id IS NULL) = (type IN ${sql.raw(CITYLESS)}))`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM ingestion_run WHERE type IN ('purchase_claim', 'store_event')`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_city_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_city_check
      CHECK ((city_id IS NULL) = (type = 'account_purge'))`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish', 'content_import', 'account_purge'))`.execute(db)
  await sql`DELETE FROM entitlement WHERE source = 'restore'`.execute(db)
  await sql`
    ALTER TABLE entitlement
      DROP CONSTRAINT entitlement_ended_check,
      DROP CONSTRAINT entitlement_store_check,
      DROP CONSTRAINT entitlement_source_check,
      DROP COLUMN ended_reason,
      DROP COLUMN store_transaction_id,
      ADD CONSTRAINT entitlement_source_check CHECK (source IN ('free', 'grant', 'purchase'))`.execute(db)
  await sql`DROP TABLE purchase_claim, purchase_intent`.execute(db)
}
