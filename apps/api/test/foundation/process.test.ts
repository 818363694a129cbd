import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json } from '../helpers/http.js'
import { freePort, spawnEntry, waitForHealth } from '../helpers/process.js'
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-db.js'

/** The service as an operator runs it: its own process, configured only by its environment. */
describe('the service process', () => {
  let dir: string
  let database: TestDatabase | null = null
  let dbEnv: Record<string, string>
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gorod-proc-'))
    if (onPostgres) {
      database = await createTestDatabase()
      dbEnv = { DATABASE_URL: database.url! }
    } else {
      dbEnv = { PGLITE_DIR: join(dir, 'pglite') }
    }
  })
  afterAll(async () => {
    await database?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('starts, serves health, stops on SIGTERM, and keeps its data across a restart', async () => {
    const port = await freePort()
    const env = { ...dbEnv, PORT: String(port), TENANT_APP_KEYS: 'progulki:restart-check-key-1' }
    const first = spawnEntry('main.ts', [], env)
    await waitForHealth(port, first)
    const res = await fetch(`http://127.0.0.1:${port}/v1/cities`, {
      headers: { 'X-App-Key': 'restart-check-key-1' },
    })
    expect(res.status).toBe(200)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.stdout()).toContain('"msg":"stopped"')

    // Second start without the configured key: the stored key written by the first start is still there.
    const port2 = await freePort()
    const second = spawnEntry('main.ts', [], { ...dbEnv, PORT: String(port2) })
    const health = await json(await waitForHealth(port2, second))
    expect(health).toMatchObject({ status: 'ok', db: 'ok' })
    const again = await fetch(`http://127.0.0.1:${port2}/v1/cities`, {
      headers: { 'X-App-Key': 'restart-check-key-1' },
    })
    expect(again.status).toBe(200)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })

  it('refuses to start with bad configuration, naming the variable', async () => {
    const bad = spawnEntry('main.ts', [], { ...dbEnv, PORT: 'abc' })
    expect(await bad.exited).toBe(78)
    expect(bad.stderr()).toMatch(/PORT: must be a whole number/)
  })

  it('refuses to start when DATABASE_URL is unreachable, saying where it tried', async () => {
    const port = await freePort()
    const closed = await freePort()
    const bad = spawnEntry('main.ts', [], {
      PORT: String(port),
      DATABASE_URL: `postgres://nobody:hunter2@127.0.0.1:${closed}/gorod`,
    })
    expect(await bad.exited).toBe(1)
    expect(bad.stderr()).toContain(`127.0.0.1:${closed}/gorod`)
    expect(bad.stderr() + bad.stdout()).not.toContain('hunter2')
  })

  it('prints tenants with their app keys as JSON from the CLI', async () => {
    const cli = spawnEntry('cli.ts', ['tenants', '--json'], dbEnv)
    expect(await cli.exited).toBe(0)
    const tenants = JSON.parse(cli.stdout())
    expect(tenants.map((t: { slug: string }) => t.slug)).toEqual(['gorod', 'progulki'])
    for (const t of tenants) expect(Object.keys(t).sort()).toEqual(['app_key', 'name', 'slug'])
  })
})
