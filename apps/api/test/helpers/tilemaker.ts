import { execFileSync } from 'node:child_process'
import { describe } from 'vitest'

function onPath(): boolean {
  try {
    execFileSync('tilemaker', ['--help'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const available = onPath()

/** Whether tilemaker is on PATH here (under CI it must be). */
export const tilemakerAvailable = available

if (!available && process.env.CI === 'true') {
  // In CI the basemap builder is part of the contract: a missing one must fail loudly, not skip.
  throw new Error(
    'tilemaker is not on PATH: install the Debian package "tilemaker" (apt-get install -y tilemaker)',
  )
}

/** `describe` that runs only with tilemaker on PATH; elsewhere it skips naming the package. */
export const describeWithTilemaker: typeof describe = available
  ? describe
  : (((name: string, ...rest: unknown[]) =>
      describe.skip(
        `${name} (skipped: tilemaker not on PATH; install the Debian package "tilemaker")`,
        ...(rest as [() => void]),
      )) as unknown as typeof describe)
