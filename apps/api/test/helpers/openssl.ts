import { describe } from 'vitest'
import { opensslAvailable } from './apple-chain.js'

/** Runs the block when openssl is there; under CI its absence is a failure, elsewhere a clear skip. */
export function describeWithOpenssl(name: string, body: () => void): void {
  if (!opensslAvailable && process.env.CI === 'true')
    throw new Error('openssl is required by the App Store tests (apt-get install -y openssl)')
  if (!opensslAvailable) console.warn(`skipping "${name}": the openssl CLI is not installed`)
  describe.skipIf(!opensslAvailable)(name, body)
}
