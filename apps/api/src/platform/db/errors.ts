/** True when an error means "the database is not reachable right now", not "this query is wrong". */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null
  if (!e) return false
  const code = e.code ?? ''
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
    return true
  // 08xxx connection exceptions, 57P01-57P03 admin shutdown / crash / cannot connect now, 53300 too many clients.
  if (/^08/.test(code) || /^57P0[123]$/.test(code) || code === '53300') return true
  // 55000 is broad; only "database is not currently accepting connections" means unreachable.
  if (code === '55000' && /not currently accepting connections/i.test(e.message ?? '')) return true
  const msg = e.message ?? ''
  return /Connection terminated|Connection ended|not queryable|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
    msg,
  )
}

/** Postgres unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505'
}

/** Postgres foreign_key_violation. */
export function isForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23503'
}
