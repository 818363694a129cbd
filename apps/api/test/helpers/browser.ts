import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { describe } from 'vitest'

/**
 * The real browser for end-to-end checks: Debian's `chromium` driven by `playwright-core` (which
 * never downloads a browser of its own). WebGL comes from SwiftShader, opted into explicitly.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const available = existsSync(CHROMIUM_PATH)

/** Whether the browser is installed here (under CI it must be). */
export const browserAvailable = available

if (!available && process.env.CI === 'true') {
  // In CI the browser checks are part of the contract: a missing browser must fail loudly, not skip.
  throw new Error(
    `chromium is not at ${CHROMIUM_PATH}: install the Debian package "chromium" (apt-get install -y chromium)`,
  )
}

/** `describe` that runs only with chromium installed; elsewhere it skips naming the package. */
export const describeWithBrowser: typeof describe = available
  ? describe
  : (((name: string, ...rest: unknown[]) =>
      describe.skip(
        `${name} (skipped: chromium not installed; install the Debian package "chromium")`,
        ...(rest as [() => void]),
      )) as unknown as typeof describe)

/**
 * Headless chromium (playwright gives it a fresh temporary profile), no background traffic (the
 * network may be closed) and software WebGL.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  })
  return { browser, close: () => browser.close() }
}
