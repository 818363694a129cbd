import type { Kysely } from 'kysely'
import type { ContentAuditTable, DB } from '../../platform/db/schema.js'

/** Every change to authored content, with who and when: written in the same transaction as the change. */
export async function recordAudit(
  db: Kysely<DB>,
  actor: string,
  entity: ContentAuditTable['entity'],
  entityId: string | number,
  action: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto('content_audit')
    .values({
      actor,
      entity,
      entity_id: String(entityId),
      action,
      detail: detail ? JSON.stringify(detail) : null,
    })
    .execute()
}
