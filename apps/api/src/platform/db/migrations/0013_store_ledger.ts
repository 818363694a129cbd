import { type Kysely, sql } from 'kysely'

/**
 * The purchase ledger (issue 13, ADR 015). `store_transactions` holds one row per store transaction,
 * unique per (store, environment, store transaction id): its facts never change, and the row is never
 * deleted (a legal record). The only changes allowed are binding a row recorded before anyone claimed
 * it (a notification first: `account_id` NULL → an account) and cutting the link to a person
 * (`account_id` → NULL) when the account is deleted. What the store says over time (purchased, then
 * refunded, ...) is appended to `store_transaction_states`, never rewritten. `store_events` is the
 * notifications inbox, unique per store event id, so a redelivered notification is stored once.
 * No balance, credit or currency column exists: purchases are one-time unlocks.
 *
 * `account_id` has no foreign key yet: accounts arrive with their own migration, which adds it.
 */
const STATUSES = `('purchased','pending','failed','cancelled','refunded','revoked')`

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE store_transactions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id integer NOT NULL REFERENCES tenants (id),
      store text NOT NULL CHECK (store IN ('apple', 'rustore')),
      environment text NOT NULL CHECK (environment IN ('production', 'sandbox')),
      store_transaction_id text NOT NULL CHECK (length(store_transaction_id) BETWEEN 1 AND 200),
      original_transaction_id text NOT NULL,
      product_id text,
      binding_token text,
      account_id uuid,
      purchased_at timestamptz,
      raw jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (store, environment, store_transaction_id)
    )`.execute(db)
  await sql`CREATE INDEX store_transactions_account ON store_transactions (account_id) WHERE account_id IS NOT NULL`.execute(
    db,
  )
  await sql`CREATE INDEX store_transactions_original ON store_transactions (store, original_transaction_id)`.execute(
    db,
  )
  await sql`
    CREATE FUNCTION store_transactions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'store_transactions is append-only (a legal record): rows are never deleted';
      END IF;
      IF NEW.account_id IS NOT NULL AND OLD.account_id IS NOT NULL AND NEW.account_id <> OLD.account_id
         OR (NEW.id, NEW.tenant_id, NEW.store, NEW.environment, NEW.store_transaction_id,
             NEW.original_transaction_id, NEW.product_id, NEW.binding_token, NEW.purchased_at,
             NEW.raw, NEW.recorded_at)
            IS DISTINCT FROM
            (OLD.id, OLD.tenant_id, OLD.store, OLD.environment, OLD.store_transaction_id,
             OLD.original_transaction_id, OLD.product_id, OLD.binding_token, OLD.purchased_at,
             OLD.raw, OLD.recorded_at) THEN
        RAISE EXCEPTION 'store_transactions is append-only: only an unbound row may be bound, and a link cut';
      END IF;
      RETURN NEW;
    END $$`.execute(db)
  await sql`
    CREATE TRIGGER store_transactions_append_only BEFORE UPDATE OR DELETE ON store_transactions
      FOR EACH ROW EXECUTE FUNCTION store_transactions_append_only()`.execute(db)

  await sql`
    CREATE TABLE store_transaction_states (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id bigint NOT NULL REFERENCES store_transactions (id),
      status text NOT NULL CHECK (status IN ${sql.raw(STATUSES)}),
      source text NOT NULL CHECK (source IN ('confirm', 'notification', 'reconcile', 'restore')),
      raw jsonb NOT NULL,
      observed_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)
  await sql`CREATE INDEX store_transaction_states_latest ON store_transaction_states (transaction_id, id DESC)`.execute(
    db,
  )
  await sql`
    CREATE FUNCTION store_transaction_states_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'store_transaction_states is append-only';
    END $$`.execute(db)
  await sql`
    CREATE TRIGGER store_transaction_states_append_only BEFORE UPDATE OR DELETE ON store_transaction_states
      FOR EACH ROW EXECUTE FUNCTION store_transaction_states_append_only()`.execute(db)

  await sql`
    CREATE TABLE store_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      store text NOT NULL CHECK (store IN ('apple', 'rustore')),
      external_event_id text NOT NULL CHECK (length(external_event_id) BETWEEN 1 AND 200),
      tenant_id integer REFERENCES tenants (id),
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed', 'ignored')),
      error text,
      attempts integer NOT NULL DEFAULT 0,
      received_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      UNIQUE (store, external_event_id)
    )`.execute(db)
  await sql`CREATE INDEX store_events_pending ON store_events (id) WHERE status = 'received'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE store_events`.execute(db)
  await sql`DROP TABLE store_transaction_states`.execute(db)
  await sql`DROP FUNCTION store_transaction_states_append_only()`.execute(db)
  await sql`DROP TABLE store_transactions`.execute(db)
  await sql`DROP FUNCTION store_transactions_append_only()`.execute(db)
}
