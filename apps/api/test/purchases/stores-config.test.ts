import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { makeAppleChain, opensslAvailable } from '../helpers/apple-chain.js'
import { spawnEntry } from '../helpers/process.js'

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems.join('\n')
  }
  throw new Error('expected a ConfigError')
}

const dir = mkdtempSync(join(tmpdir(), 'stores-config-'))
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const consoleKey = (rsa.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64')

describe('store configuration', () => {
  it('leaves both stores disabled by default, accepting sandbox', () => {
    expect(loadConfig({}).stores).toEqual({
      acceptSandbox: true,
      apple: null,
      rustore: null,
      retryAfterSeconds: 60,
    })
    expect(loadConfig({ STORES_ACCEPT_SANDBOX: 'false' }).stores.acceptSandbox).toBe(false)
  })

  it('refuses Apple enabled without root certificates or apps, or with an app lacking its appAppleId', () => {
    const list = problems({ APPLE_ENABLED: 'true' })
    expect(list).toMatch(/^APPLE_ROOT_CERT_FILES: is required/m)
    expect(list).toMatch(/^APPLE_APPS: is required/m)
    expect(
      problems({ APPLE_ENABLED: 'true', APPLE_ROOT_CERT_FILES: 'x', APPLE_APPS: 'gorod:ru.gorod.app' }),
    ).toMatch(/APPLE_APPS: needs the appAppleId of gorod/)
  })

  it('refuses root certificate files that are missing or not certificates', () => {
    const junk = join(dir, 'junk.cer')
    writeFileSync(junk, 'not a certificate')
    const base = { APPLE_ENABLED: 'true', APPLE_APPS: 'gorod:ru.gorod.app:123456789' }
    expect(problems({ ...base, APPLE_ROOT_CERT_FILES: join(dir, 'absent.cer') })).toContain('ENOENT')
    expect(problems({ ...base, APPLE_ROOT_CERT_FILES: junk })).toContain('is not a readable certificate')
  })

  it.skipIf(!opensslAvailable)('reads DER and PEM root certificates and the apps of each tenant', () => {
    const { rootDer } = makeAppleChain()
    writeFileSync(join(dir, 'root.der'), rootDer)
    writeFileSync(
      join(dir, 'root.pem'),
      `-----BEGIN CERTIFICATE-----\n${rootDer.toString('base64')}\n-----END CERTIFICATE-----\n`,
    )
    const config = loadConfig({
      APPLE_ENABLED: 'true',
      APPLE_ROOT_CERT_FILES: `${join(dir, 'root.der')}, ${join(dir, 'root.pem')}`,
      APPLE_APPS: 'gorod:ru.gorod.app:123456789,progulki:ru.progulki.app:987654321',
    })
    expect(config.stores.apple?.rootCertificates).toEqual([rootDer, rootDer])
    expect(config.stores.apple?.apps).toEqual({
      gorod: { bundleId: 'ru.gorod.app', appAppleId: 123456789 },
      progulki: { bundleId: 'ru.progulki.app', appAppleId: 987654321 },
    })
    expect(config.stores.apple?.onlineChecks).toBe(false)
  })

  it('reads RuStore settings, turning the console key into PEM, and never echoes a bad key', () => {
    const config = loadConfig({
      RUSTORE_ENABLED: 'true',
      RUSTORE_KEY_ID: 'key-1',
      RUSTORE_PRIVATE_KEY: consoleKey,
      RUSTORE_APPS: 'gorod:3399750,progulki:4400001',
    })
    expect(config.stores.rustore).toMatchObject({
      apiUrl: 'https://public-api.rustore.ru',
      keyId: 'key-1',
      apps: { gorod: { appId: 3399750 }, progulki: { appId: 4400001 } },
      timeoutMs: 8000,
      timestampOffset: '+03:00',
    })
    expect(config.stores.rustore?.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    const bad = problems({
      RUSTORE_ENABLED: 'true',
      RUSTORE_KEY_ID: 'k',
      RUSTORE_PRIVATE_KEY: 'c2VjcmV0LXZhbHVl',
      RUSTORE_APPS: 'gorod:1',
    })
    expect(bad).toContain('RUSTORE_PRIVATE_KEY')
    expect(bad).not.toContain('c2VjcmV0LXZhbHVl')
    expect(problems({ RUSTORE_ENABLED: 'true' })).toMatch(
      /RUSTORE_KEY_ID[\s\S]*RUSTORE_PRIVATE_KEY[\s\S]*RUSTORE_APPS/,
    )
    expect(problems({ RUSTORE_APPS: 'gorod:abc' })).toContain('RUSTORE_APPS')
    expect(problems({ RUSTORE_TIMESTAMP_OFFSET: '3h' })).toContain('RUSTORE_TIMESTAMP_OFFSET')
  })

  it('exits with 78 when Apple is enabled and no root certificate is given', async () => {
    const bad = spawnEntry('main.ts', [], {
      APPLE_ENABLED: 'true',
      APPLE_APPS: 'gorod:ru.gorod.app:123456789',
      PGLITE_DIR: join(dir, 'pglite'),
    })
    expect(await bad.exited).toBe(78)
    expect(bad.stderr()).toMatch(/APPLE_ROOT_CERT_FILES: is required when APPLE_ENABLED=true/)
  })
})
