import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, REPO_ROOT, type Spawned, waitForHealth } from '../helpers/process.js'

/** `npm start` exactly as the README says (through npm, compiled build), on the embedded default. */
function npmStart(env: Record<string, string>): Spawned {
  const child = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    err += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Every process below `pid` (Linux /proc), depth first. */
function descendants(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`
  if (!existsSync(file)) return []
  const direct = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  return direct.flatMap((c) => [c, ...descendants(c)])
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function gone(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  return pids.filter(alive)
}

describe('npm start', () => {
  let dir: string
  const started: ChildProcess[] = []
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gorod-npm-start-'))
  })
  afterAll(() => {
    for (const c of started) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops the server itself on ${signal} sent to the npm process: port closed, no child left`, async () => {
      const port = await freePort()
      const run = npmStart({
        PGLITE_DIR: join(dir, `pglite-${signal}`),
        PORT: String(port),
        HOST: '127.0.0.1',
      })
      started.push(run.child)
      await waitForHealth(port, run, 90_000)
      const children = descendants(run.child.pid!)
      expect(children.length).toBeGreaterThan(0)
      run.child.kill(signal)
      await run.exited
      expect(await gone(children)).toEqual([])
      expect(await portOpen(port)).toBe(false)
      expect(run.stdout()).toContain('"msg":"stopped"')
      // The compiled build runs, not the TypeScript sources.
      expect(existsSync(join(REPO_ROOT, 'apps/api/dist/main.js'))).toBe(true)
    })
  }

  it('development on the embedded default: creates an operator token once, keeps it, opens the admin surface', async () => {
    const pglite = join(dir, 'first-run', 'pglite')
    const tokenFile = join(dir, 'first-run', 'admin-token')
    const port = await freePort()
    const first = npmStart({ PGLITE_DIR: pglite, PORT: String(port), HOST: '127.0.0.1' })
    started.push(first.child)
    await waitForHealth(port, first, 90_000)
    const token = readFileSync(tokenFile, 'utf8').trim()
    expect(token.length).toBeGreaterThanOrEqual(16)
    expect(statSync(tokenFile).mode & 0o077).toBe(0)
    // Says how to use it (the file, not the secret).
    expect(first.stderr()).toContain('X-Admin-Token: $(cat ')
    expect(first.stderr() + first.stdout()).not.toContain(token)
    const closedWithout = await fetch(`http://127.0.0.1:${port}/v1/jobs/00000000-0000-4000-8000-000000000000`)
    expect(closedWithout.status).toBe(401)
    const withToken = await fetch(`http://127.0.0.1:${port}/v1/jobs/00000000-0000-4000-8000-000000000000`, {
      headers: { 'X-Admin-Token': token },
    })
    expect(withToken.status).toBe(404)
    first.child.kill('SIGTERM')
    await first.exited

    // A restart reuses the token and prints nothing about it again.
    const port2 = await freePort()
    const second = npmStart({ PGLITE_DIR: pglite, PORT: String(port2), HOST: '127.0.0.1' })
    started.push(second.child)
    await waitForHealth(port2, second, 90_000)
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token)
    expect(second.stderr()).not.toContain('X-Admin-Token')
    const again = await fetch(`http://127.0.0.1:${port2}/v1/jobs/00000000-0000-4000-8000-000000000000`, {
      headers: { 'X-Admin-Token': token },
    })
    expect(again.status).toBe(404)
    second.child.kill('SIGTERM')
    await second.exited
  })

  it('production keeps the admin surface closed when ADMIN_API_TOKEN is unset', async () => {
    const pglite = join(dir, 'prod', 'pglite')
    const port = await freePort()
    const run = npmStart({
      PGLITE_DIR: pglite,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
    })
    started.push(run.child)
    await waitForHealth(port, run, 90_000)
    expect(existsSync(join(dir, 'prod', 'admin-token'))).toBe(false)
    const res = await fetch(`http://127.0.0.1:${port}/v1/jobs/00000000-0000-4000-8000-000000000000`, {
      headers: { 'X-Admin-Token': 'anything-at-all-long-enough' },
    })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: string }).code).toBe('ADMIN_DISABLED')
    run.child.kill('SIGTERM')
    await run.exited
  })
})
