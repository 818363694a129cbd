import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  it('defaults to the embedded database on port 3000', () => {
    const config = loadConfig({})
    expect(config.port).toBe(3000)
    expect(config.database).toEqual({ kind: 'pglite', dir: '.data/pglite' })
    expect(config.adminToken).toBeNull()
    expect(config.jobs.transport).toBe('local')
  })

  it('uses Postgres when DATABASE_URL is set', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/gorod' })
    expect(config.database).toMatchObject({ kind: 'postgres', url: 'postgres://u:p@db:5432/gorod' })
  })

  it('names every bad variable at once, without echoing values', () => {
    const list = problems({ PORT: 'abc', DATABASE_URL: 'mysql://secret-password@x', LOG_LEVEL: 'loud' })
    const text = list.join('\n')
    expect(text).toMatch(/^PORT: /m)
    expect(text).toMatch(/^DATABASE_URL: /m)
    expect(text).toMatch(/^LOG_LEVEL: /m)
    expect(text).not.toContain('secret-password')
  })

  it('refuses a port out of range and a too-short admin token', () => {
    expect(problems({ PORT: '70000' }).join()).toContain('PORT')
    expect(problems({ ADMIN_API_TOKEN: 'short' }).join()).toContain('ADMIN_API_TOKEN')
  })

  it('requires every QStash variable when JOBS_TRANSPORT=qstash', () => {
    const list = problems({ JOBS_TRANSPORT: 'qstash' }).join('\n')
    for (const key of [
      'QSTASH_TOKEN',
      'QSTASH_CURRENT_SIGNING_KEY',
      'QSTASH_NEXT_SIGNING_KEY',
      'PUBLIC_BASE_URL',
    ]) {
      expect(list).toContain(key)
    }
  })

  it('parses production app keys per tenant', () => {
    const config = loadConfig({ TENANT_APP_KEYS: 'gorod:prod-key-aaaa1111,progulki:prod-key-bbbb2222' })
    expect(config.tenantAppKeys).toEqual({ gorod: 'prod-key-aaaa1111', progulki: 'prod-key-bbbb2222' })
    expect(problems({ TENANT_APP_KEYS: 'gorod' }).join()).toContain('TENANT_APP_KEYS')
  })
})
