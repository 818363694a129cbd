import { type Kysely, sql } from 'kysely'

/**
 * Issue 15: operators sign in with their own tokens (ADMIN_TOKENS), and every change an operator
 * makes through the admin surface is recorded with the operator's name: one row per successful
 * mutating request (method, path, status, what was asked, the job or record it produced).
 * `content_audit` keeps its finer per-entity history of authored content.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_action (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      operator text NOT NULL CHECK (btrim(operator) <> ''),
      method text NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
      path text NOT NULL,
      status integer NOT NULL CHECK (status BETWEEN 200 AND 399),
      detail jsonb
    )`.execute(db)
  await sql`CREATE INDEX admin_action_operator_idx ON admin_action (operator, id)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE admin_action`.execute(db)
}
