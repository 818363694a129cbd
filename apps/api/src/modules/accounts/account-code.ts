import { randomBytes } from 'node:crypto'

/** Crockford base32: no I, L, O, U, so a code read aloud or typed is hard to get wrong. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** 12 random characters (60 bits); shown in groups of four. */
export function newAccountCode(): string {
  const bytes = randomBytes(12)
  let out = ''
  for (const b of bytes) out += ALPHABET[b & 31]
  return out
}

export function formatAccountCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-')
}

/** What a person typed, as stored: case, spaces and dashes ignored, O→0, I/L→1 (Crockford). */
export function normalizeAccountCode(typed: string): string | null {
  const s = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1')
  return /^[0-9A-HJKMNP-TV-Z]{12}$/.test(s) ? s : null
}
