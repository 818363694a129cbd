import { type Kysely, sql } from 'kysely'

/**
 * Entitlements (issue 12 on accounts, 0014): which account owns which catalog item, and why (`free`,
 * `grant` by an operator, `purchase` confirmed by a store). Tenant-scoped under FORCE ROW LEVEL
 * SECURITY like the account tables, read and written through `withTenant`. An entitlement ends (a
 * refund, a revocation) by setting `ended_at`; rows are never deleted. At most one open entitlement
 * per account and item.
 */
const TENANT = sql.raw(`nullif(current_setting('app.tenant_id', true), '')::integer`)

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE entitlement (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id integer NOT NULL REFERENCES tenants (id),
      account_id uuid NOT NULL REFERENCES account (id),
      catalog_item_id bigint NOT NULL REFERENCES catalog_item (id),
      source text NOT NULL CHECK (source IN ('free', 'grant', 'purchase')),
      granted_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      CHECK (ended_at IS NULL OR ended_at >= granted_at)
    )`.execute(db)
  await sql`
    CREATE UNIQUE INDEX entitlement_open_idx ON entitlement (account_id, catalog_item_id)
      WHERE ended_at IS NULL`.execute(db)
  await sql`ALTER TABLE entitlement ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE entitlement FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`
    CREATE POLICY entitlement_tenant ON entitlement
      USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT})`.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE ON entitlement TO gorod_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE entitlement`.execute(db)
}
