import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['apps/**/test/**/*.test.ts', 'packages/**/test/**/*.test.ts', 'api/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['apps/api/test/global-setup.ts'],
    setupFiles: ['apps/api/test/response-validation.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
})
