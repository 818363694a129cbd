import { afterAll, afterEach, expect, inject } from 'vitest'
import { formatMismatches, takeMismatches, writeCount } from './helpers/response-validation.js'

// A mismatch fails the test that received it (an afterEach failure is the test's failure); answers
// received in beforeAll hooks are reported by the file's first test, in afterAll hooks by the file.
afterEach(() => {
  const seen = takeMismatches()
  if (seen.length) expect.fail(formatMismatches(seen))
})

afterAll(() => {
  const dir = inject('responseCounts')
  if (dir) writeCount(dir)
  const seen = takeMismatches()
  if (seen.length) throw new Error(formatMismatches(seen))
})
