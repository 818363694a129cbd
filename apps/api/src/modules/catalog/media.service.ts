import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { ContentConfig } from '../../config.js'
import type { DB, MediaTable } from '../../platform/db/schema.js'
import { AppError } from '../../platform/http/errors.js'
import { recordAudit } from './audit.js'
import { MediaRejected, sniffMedia } from './media-sniff.js'
import type { MediaStore } from './media-store.js'

export interface MediaMeta {
  author?: string | null
  license?: string | null
  source_url?: string | null
}

export type MediaRow = Omit<MediaTable, 'created_at'> & { created_at: Date }

/**
 * Takes an editor's file: its type from the bytes, the limit of that type, its sha256 as identity.
 * The same bytes uploaded again are the same medium (deduplicated): only its metadata may change.
 */
export async function storeMedia(
  db: Kysely<DB>,
  store: MediaStore,
  limits: Pick<ContentConfig, 'maxImageBytes' | 'maxAudioBytes'>,
  bytes: Buffer,
  meta: MediaMeta,
  by: string,
): Promise<{ media: MediaRow; created: boolean }> {
  const largest = Math.max(limits.maxImageBytes, limits.maxAudioBytes)
  if (bytes.length > largest) throw new AppError('PAYLOAD_TOO_LARGE', `Файл больше ${largest} байт`)
  let sniffed: Awaited<ReturnType<typeof sniffMedia>>
  try {
    sniffed = await sniffMedia(bytes)
  } catch (err) {
    if (err instanceof MediaRejected) throw new AppError('MEDIA_REJECTED', `Файл отклонён: ${err.reason}`)
    throw err
  }
  const limit = sniffed.kind === 'image' ? limits.maxImageBytes : limits.maxAudioBytes
  if (bytes.length > limit)
    throw new AppError('PAYLOAD_TOO_LARGE', `Файл типа ${sniffed.mime} больше ${limit} байт`)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const storageKey = await store.put(sha256, bytes)
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('media')
      .values({
        sha256,
        ...sniffed,
        bytes: bytes.length,
        author: meta.author ?? null,
        license: meta.license ?? null,
        source_url: meta.source_url ?? null,
        storage_key: storageKey,
        created_by: by,
      })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .returningAll()
      .executeTakeFirst()
    if (inserted) {
      await recordAudit(trx, by, 'media', sha256, 'create', { mime: sniffed.mime, bytes: bytes.length })
      return { media: inserted as MediaRow, created: true }
    }
    const existing = (await trx
      .selectFrom('media')
      .selectAll()
      .where('sha256', '=', sha256)
      .executeTakeFirstOrThrow()) as MediaRow
    const changes: MediaMeta = {}
    for (const k of ['author', 'license', 'source_url'] as const)
      if (meta[k] !== undefined && meta[k] !== existing[k]) changes[k] = meta[k]
    if (Object.keys(changes).length === 0) return { media: existing, created: false }
    const updated = (await trx
      .updateTable('media')
      .set(changes)
      .where('sha256', '=', sha256)
      .returningAll()
      .executeTakeFirstOrThrow()) as MediaRow
    await recordAudit(trx, by, 'media', sha256, 'update_meta', { ...changes })
    return { media: updated, created: false }
  })
}
