import { type Kysely, sql } from 'kysely'

/**
 * Accounts (issue 11, ADR 016). Anonymous accounts and their refresh tokens belong to one tenant and
 * are guarded by row-level security: every policy compares `tenant_id` with the transaction's
 * `app.tenant_id` setting, and FORCE makes the policies bind the table owner too. The service runs
 * tenant-scoped statements as `gorod_app` (NOLOGIN, no BYPASSRLS) after `SET LOCAL ROLE`, so a
 * superuser connection (tests, CI) is held to the same rules.
 *
 * Roles are cluster-wide: the role is created only when missing, and a concurrent migration of
 * another database of the same cluster that wins the race is not an error.
 *
 * `ingestion_run` learns a job type without a city (`account_purge`): its `city_id` is NULL, and a
 * CHECK keeps every other type bound to a city.
 */
const TENANT = sql.raw(`nullif(current_setting('app.tenant_id', true), '')::integer`)

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gorod_app') THEN
        CREATE ROLE gorod_app NOLOGIN NOBYPASSRLS;
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`.execute(db)
  // A non-superuser owner may switch to the role only as a member of it.
  await sql`
    DO $$ BEGIN
      IF NOT pg_has_role(current_user, 'gorod_app', 'MEMBER') THEN
        EXECUTE format('GRANT gorod_app TO %I', current_user);
      END IF;
    END $$`.execute(db)
  await sql`GRANT USAGE ON SCHEMA public TO gorod_app`.execute(db)

  await sql`
    CREATE TABLE account (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id integer NOT NULL REFERENCES tenants (id),
      account_code text UNIQUE CHECK (account_code ~ '^[0-9A-HJKMNP-TV-Z]{12}$'),
      created_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz,
      purge_run_id uuid REFERENCES ingestion_run (id),
      purged_at timestamptz,
      CHECK (account_code IS NOT NULL OR purged_at IS NOT NULL),
      CHECK (purged_at IS NULL OR deleted_at IS NOT NULL)
    )`.execute(db)
  await sql`CREATE INDEX account_tenant_idx ON account (tenant_id)`.execute(db)

  await sql`
    CREATE TABLE refresh_token (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id integer NOT NULL REFERENCES tenants (id),
      account_id uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
      family_id uuid NOT NULL,
      token_hash bytea NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db)
  await sql`CREATE INDEX refresh_token_family_idx ON refresh_token (family_id)`.execute(db)
  await sql`CREATE INDEX refresh_token_account_idx ON refresh_token (account_id)`.execute(db)

  for (const table of ['account', 'refresh_token']) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} FORCE ROW LEVEL SECURITY`.execute(db)
    await sql`
      CREATE POLICY ${sql.id(`${table}_tenant`)} ON ${sql.table(table)}
        USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT})`.execute(db)
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${sql.table(table)} TO gorod_app`.execute(db)
  }
  await sql`GRANT SELECT ON tenants TO gorod_app`.execute(db)
  // Deletion cuts the ledger's link to the person and export reads it, inside the tenant transaction.
  await sql`GRANT SELECT, UPDATE (account_id) ON store_transactions TO gorod_app`.execute(db)
  await sql`GRANT SELECT ON store_transaction_states TO gorod_app`.execute(db)

  // Token signing keys generated on the embedded default (configured keys never reach the database).
  await sql`
    CREATE TABLE auth_signing_key (
      kid text PRIMARY KEY,
      private_jwk jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)

  // What happened, never to whom: no account id, code or address is stored here.
  await sql`
    CREATE TABLE audit_event (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id integer REFERENCES tenants (id),
      kind text NOT NULL CHECK (kind IN ('account_deleted', 'account_purged', 'refresh_reuse')),
      details jsonb NOT NULL DEFAULT '{}',
      occurred_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)
  await sql`CREATE INDEX audit_event_time_idx ON audit_event (occurred_at DESC)`.execute(db)
  await sql`GRANT INSERT ON audit_event TO gorod_app`.execute(db)

  // Web deletion attempts, counted per key (client address or code, hashed) and fixed window.
  await sql`
    CREATE TABLE rate_limit_hit (
      bucket text NOT NULL,
      window_start timestamptz NOT NULL,
      hits integer NOT NULL DEFAULT 1,
      PRIMARY KEY (bucket, window_start)
    )`.execute(db)

  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`ALTER TABLE ingestion_run ALTER COLUMN city_id DROP NOT NULL`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish', 'account_purge'))`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_city_check
      CHECK ((city_id IS NULL) = (type = 'account_purge'))`.execute(db)
  // A run without a city has no boundary either: its boundary_ref is empty.
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_boundary_ref_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_boundary_ref_check
      CHECK (boundary_ref ~ '^[0-9]{1,12}$' OR (city_id IS NULL AND boundary_ref = ''))`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE rate_limit_hit, audit_event, auth_signing_key, refresh_token, account`.execute(db)
  await sql`DELETE FROM ingestion_run WHERE type = 'account_purge'`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_city_check`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_boundary_ref_check`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_boundary_ref_check
      CHECK (boundary_ref ~ '^[0-9]{1,12}$')`.execute(db)
  await sql`ALTER TABLE ingestion_run DROP CONSTRAINT ingestion_run_type_check`.execute(db)
  await sql`ALTER TABLE ingestion_run ALTER COLUMN city_id SET NOT NULL`.execute(db)
  await sql`
    ALTER TABLE ingestion_run ADD CONSTRAINT ingestion_run_type_check
      CHECK (type IN ('osm', 'helpers', 'publish'))`.execute(db)
  await sql`REVOKE ALL ON store_transaction_states, store_transactions, tenants FROM gorod_app`.execute(db)
  await sql`REVOKE USAGE ON SCHEMA public FROM gorod_app`.execute(db)
}
