import { type Kysely, sql } from 'kysely'
import type { DB } from '../../platform/db/schema.js'

export type Access = 'free' | 'owned' | 'locked'

/**
 * Who may read what, decided on every request. A tour is visible to a tenant when a published catalog
 * item the tenant offers holds it; it is free when one such item is free, owned when the account owns
 * an item holding it, locked otherwise. `ownedItemIds` comes from the account's entitlements (empty
 * without an account).
 */
export async function tourAccess(
  db: Kysely<DB>,
  tenantId: number,
  tourIds: number[],
  ownedItemIds: ReadonlySet<number>,
): Promise<Map<number, Access>> {
  if (tourIds.length === 0) return new Map()
  const rows = await db
    .selectFrom('catalog_item_tour as it')
    .innerJoin('catalog_item as i', 'i.id', 'it.item_id')
    .innerJoin('catalog_offer as o', (j) =>
      j.onRef('o.item_id', '=', 'i.id').on('o.tenant_id', '=', tenantId),
    )
    .innerJoin('tour as t', 't.id', 'it.tour_id')
    .select(['it.tour_id', 'i.id as item_id', 'i.paid'])
    .where('i.status', '=', 'published')
    .where('t.status', '=', 'published')
    .where('it.tour_id', 'in', tourIds)
    .execute()
  const out = new Map<number, Access>()
  const rank: Record<Access, number> = { locked: 0, owned: 1, free: 2 }
  for (const r of rows) {
    const a: Access = !r.paid ? 'free' : ownedItemIds.has(Number(r.item_id)) ? 'owned' : 'locked'
    const id = Number(r.tour_id)
    const prev = out.get(id)
    if (!prev || rank[a] > rank[prev]) out.set(id, a)
  }
  return out
}

export function itemAccess(paid: boolean, itemId: number, ownedItemIds: ReadonlySet<number>): Access {
  if (!paid) return 'free'
  return ownedItemIds.has(itemId) ? 'owned' : 'locked'
}

/**
 * Where a medium appears in content the tenant can see: as a cover (public), as media of a first
 * stop (the preview, public), or as media of later stops of these tours (readable with access only).
 * No row: the medium is not part of anything published for this tenant.
 */
export async function mediaPlacement(db: Kysely<DB>, tenantId: number, sha256: string) {
  const cover = await sql<{ one: number }>`
    SELECT 1 AS one FROM catalog_item i
      JOIN catalog_offer o ON o.item_id = i.id AND o.tenant_id = ${tenantId}
      LEFT JOIN catalog_item_tour it ON it.item_id = i.id
      LEFT JOIN tour t ON t.id = it.tour_id AND t.status = 'published'
      LEFT JOIN tour_version v ON v.id = t.published_version_id
      LEFT JOIN tour_stop s ON s.version_id = v.id AND s.position = 1
    WHERE i.status = 'published'
      AND (i.cover_sha256 = ${sha256} OR v.cover_sha256 = ${sha256}
           OR s.image_sha256 = ${sha256} OR s.audio_sha256 = ${sha256})
    LIMIT 1`.execute(db)
  if (cover.rows.length) return { public: true as const, tourIds: [] }
  const stops = await db
    .selectFrom('tour as t')
    .innerJoin('tour_stop as s', 's.version_id', 't.published_version_id')
    .select('t.id')
    .where('t.status', '=', 'published')
    .where((eb) => eb.or([eb('s.image_sha256', '=', sha256), eb('s.audio_sha256', '=', sha256)]))
    .distinct()
    .execute()
  return stops.length ? { public: false as const, tourIds: stops.map((s) => Number(s.id)) } : null
}
