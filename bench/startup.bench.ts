import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { median, round, startService } from './lib/service.js'

/**
 * Cold start to the first healthy answer on the embedded default (PGlite), as `npm start` runs it:
 * a first start (new data directory: initdb, extensions, migrations, seed) and a restart of an
 * existing one. Target: under 3 s.
 */
const RUNS = 3

export async function run() {
  const fresh: number[] = []
  const restart: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'gorod-bench-start-'))
    const env = { PGLITE_DIR: join(dir, 'pglite'), WORKER_ENABLED: 'true' }
    const first = await startService(env)
    fresh.push(first.readyMs)
    await first.stop()
    const second = await startService(env)
    restart.push(second.readyMs)
    await second.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return {
    'first start (new data dir), median s': round(median(fresh) / 1000),
    'restart (existing data dir), median s': round(median(restart) / 1000),
    runs: { fresh: fresh.map((ms) => round(ms / 1000)), restart: restart.map((ms) => round(ms / 1000)) },
    target: 'under 3 s',
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2))
