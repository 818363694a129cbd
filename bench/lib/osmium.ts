import { execFileSync, spawnSync } from 'node:child_process'

/** osmium-tool is optional for benchmarks (Debian package `osmium-tool`): absent means skip, not fail. */
export function osmiumAvailable(): boolean {
  return spawnSync('osmium', ['--version'], { stdio: 'ignore' }).status === 0
}

export function osmium(args: string[]): string {
  return execFileSync('osmium', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}
