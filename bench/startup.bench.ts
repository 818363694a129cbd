import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { median, ROOT, round, startService } from './lib/service.js'

/**
 * `npm start` to the first 200 from GET /v1/api/health on the embedded default (PGlite), next to a
 * bare `node -e` HTTP server started the same way (through npm) in the same run: a first start on a
 * fresh clone (after `npm ci`'s `prepare`: the build and the PGlite cluster template, timed apart as
 * the install step), first starts with a new data directory, restarts of an existing one, and once a
 * first start without the install-time template (initdb at start). Targets: restart under 3 s,
 * first start under 5 s.
 */
const RUNS = 3

/** A server that answers 200 on any path: the floor of "npm + node + a listening socket". */
const BARE = `require('node:http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT, process.env.HOST);
process.on('SIGTERM', () => process.exit(0))`

export async function run() {
  const npmStart = ['npm', 'start']
  const bare: number[] = []
  const fresh: number[] = []
  const restart: number[] = []
  // Fresh clone: no compiled output and no cluster template until npm ci's `prepare` makes them.
  rmSync(join(ROOT, 'apps/api/dist'), { recursive: true, force: true })
  rmSync(join(ROOT, 'node_modules/.cache/gorod'), { recursive: true, force: true })
  const noTemplateDir = mkdtempSync(join(tmpdir(), 'gorod-bench-start-'))
  const withoutTemplate = await startService(
    { PGLITE_DIR: join(noTemplateDir, 'pglite') },
    undefined,
    npmStart,
  )
  await withoutTemplate.stop()
  rmSync(noTemplateDir, { recursive: true, force: true })
  rmSync(join(ROOT, 'apps/api/dist'), { recursive: true, force: true })
  const prepareStarted = performance.now()
  execFileSync('npm', ['run', '-s', 'prepare'], { cwd: ROOT, stdio: 'ignore' })
  const prepareMs = performance.now() - prepareStarted
  const cloneDir = mkdtempSync(join(tmpdir(), 'gorod-bench-start-'))
  const clone = await startService({ PGLITE_DIR: join(cloneDir, 'pglite') }, undefined, npmStart)
  await clone.stop()
  rmSync(cloneDir, { recursive: true, force: true })
  for (let i = 0; i < RUNS; i++) {
    const reference = await startService({}, undefined, ['npm', 'exec', '--', 'node', '-e', BARE])
    bare.push(reference.readyMs)
    await reference.stop()
    const dir = mkdtempSync(join(tmpdir(), 'gorod-bench-start-'))
    const env = { PGLITE_DIR: join(dir, 'pglite'), WORKER_ENABLED: 'true' }
    const first = await startService(env, undefined, npmStart)
    fresh.push(first.readyMs)
    await first.stop()
    const second = await startService(env, undefined, npmStart)
    restart.push(second.readyMs)
    await second.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  const s = (ms: number) => round(ms / 1000)
  return {
    'reference: bare node -e HTTP server via npm exec, median s': s(median(bare)),
    'install step (npm ci prepare: build + PGlite cluster template), s': s(prepareMs),
    'first start on a fresh clone (after npm ci, new data dir), s': s(clone.readyMs),
    'first start without the install-time template (build + initdb at start), s': s(withoutTemplate.readyMs),
    'first start (new data dir), median s': s(median(fresh)),
    'restart (existing data dir), median s': s(median(restart)),
    runs: { bare: bare.map(s), fresh: fresh.map(s), restart: restart.map(s) },
    target: 'restart under 3 s, first start under 5 s (npm start → healthy)',
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
