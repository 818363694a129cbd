import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

export interface Service {
  port: number
  url: string
  child: ChildProcess
  /** ms from spawn to the first 200 from /v1/api/health */
  readyMs: number
  stop(): Promise<void>
}

/** Starts `npm start`'s entry (apps/api/src/main.ts) as its own process, as an operator would. */
export async function startService(
  env: Record<string, string>,
  entry = 'apps/api/src/main.ts',
  /** The command to run instead of `node --import tsx <entry>` (e.g. `['npm', 'start']`). */
  command?: string[],
): Promise<Service> {
  const port = await freePort()
  const started = performance.now()
  const [file, ...args] = command ?? [process.execPath, '--import', 'tsx', entry]
  const child = spawn(file!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited: ${stderr}`)
    if (performance.now() - started > 120_000) throw new Error(`service not healthy in 120 s: ${stderr}`)
    try {
      const res = await fetch(`${url}/v1/api/health`, { signal: AbortSignal.timeout(2000) })
      if (res.status === 200) break
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  const readyMs = performance.now() - started
  return {
    port,
    url,
    child,
    readyMs,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    },
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits
