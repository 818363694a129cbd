import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ContractMismatch, ContractObserver } from '../../src/platform/http/response-contract.js'

/**
 * Every answer a test receives from the app is checked against the contract (see `contractCheck`):
 * test-app.ts hands this observer to every app it builds, and `response-validation.setup.ts` fails the
 * test that received a mismatch, naming the operation, the status and the first schema error.
 *
 * RESPONSE_VALIDATION=0 switches it off, only to measure what it costs.
 */

export const responseValidationEnabled = process.env.RESPONSE_VALIDATION !== '0'

interface Seen extends ContractMismatch {
  request: string
  requestId: string
}

const pending: Seen[] = []
let validated = 0

export const recordAnswers: ContractObserver = ({ method, path, requestId, mismatch }) => {
  validated += 1
  if (mismatch) pending.push({ ...mismatch, request: `${method} ${path}`, requestId })
}

/** The observer for apps built by tests, or undefined when validation is switched off. */
export function testContractObserver(): ContractObserver | undefined {
  return responseValidationEnabled ? recordAnswers : undefined
}

/** Mismatches seen since the last call, emptied. */
export function takeMismatches(): Seen[] {
  return pending.splice(0, pending.length)
}

export function formatMismatches(seen: Seen[]): string {
  return seen
    .map(
      (m) =>
        `answer departs from the contract: ${m.operation} → ${m.status}: ${m.message} (request ${m.request}, id ${m.requestId})`,
    )
    .join('\n')
}

/** Answers validated by this test file's process so far. */
export function validatedCount(): number {
  return validated
}

/** Where each test file writes its count; the global teardown adds them up. */
export function writeCount(dir: string): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`),
    JSON.stringify({ validated }),
  )
}

export function sumCounts(dir: string): { answers: number; files: number } {
  let answers = 0
  let files = 0
  for (const name of safeReaddir(dir)) {
    const { validated: n } = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { validated: number }
    answers += n
    if (n > 0) files += 1
  }
  return { answers, files }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.json'))
  } catch {
    return []
  }
}
