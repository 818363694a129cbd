import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import type { Config } from './config.js'

export const DEV_ADMIN_TOKEN_FILE = 'admin-token'

/**
 * First run on the embedded default in development: with no ADMIN_API_TOKEN the admin surface would
 * be closed and a newcomer's first enqueue would answer 403. Instead an operator token is generated
 * once, kept next to the PGlite data (`.data/admin-token`, mode 0600) and reused on every start; how
 * to use it is printed once, when it is created (the path, never the token). Production, test, a
 * Postgres database and a throwaway `memory://` database keep the rule: closed when unset.
 */
export function withDevAdminToken(config: Config, print: (line: string) => void): Config {
  if (
    config.adminToken ||
    config.adminOperators.length ||
    config.env !== 'development' ||
    config.database.kind !== 'pglite'
  )
    return config
  if (config.database.dir.startsWith('memory://')) return config
  const file = join(dirname(resolve(config.database.dir)), DEV_ADMIN_TOKEN_FILE)
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim()
    if (token.length >= 16) return { ...config, adminToken: token }
  }
  const token = randomBytes(24).toString('base64url')
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${token}\n`, { mode: 0o600 })
  const near = relative(process.cwd(), file)
  const shown = near && !near.startsWith('..') ? near : file
  print(
    `Development operator token created in ${shown} (set ADMIN_API_TOKEN to use your own).\n` +
      `Use it on admin and job routes, for example:\n` +
      `  curl -H "X-Admin-Token: $(cat ${shown})" http://localhost:${config.port}/v1/admin/…\n`,
  )
  return { ...config, adminToken: token }
}
