import { AppError } from './errors.js'

/**
 * An opaque keyset cursor over a bigint id, for lists in ascending id order: the cursor names the last
 * id of a page, the next page starts after it. Ids never change, so pages neither skip nor repeat rows.
 */
export function encodeIdCursor(id: number): string {
  return Buffer.from(`id:${id}`, 'utf8').toString('base64url')
}

export function decodeIdCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const match = /^id:(\d{1,18})$/.exec(text)
  const id = match ? Number(match[1]) : Number.NaN
  if (!Number.isSafeInteger(id)) {
    throw new AppError('VALIDATION_FAILED', 'Некорректный курсор', [
      { path: 'query.cursor', message: 'некорректный курсор: передайте next_cursor из предыдущей страницы' },
    ])
  }
  return id
}
