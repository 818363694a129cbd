import { describe, expect, it } from 'vitest'
import { statusUrl } from '../../src/modules/ingestion/sources/overpass-client.js'
import { msUntilSlot, parseOverpassStatus } from '../../src/modules/ingestion/sources/overpass-status.js'

const FREE = `Connected as: 1234567
Current time: 2026-11-28T10:00:00Z
Announced endpoint: none
Rate limit: 2
2 slots available now.
Currently running queries (pid, space limit, time limit, start time):
`

const BUSY = `Connected as: 1234567
Current time: 2026-11-28T10:00:00Z
Rate limit: 2
Slot available after: 2026-11-28T10:00:30Z, in 30 seconds.
Slot available after: 2026-11-28T10:00:07Z, in 7 seconds.
Currently running queries (pid, space limit, time limit, start time):
`

describe('parseOverpassStatus', () => {
  it('reads free slots: no wait', () => {
    const s = parseOverpassStatus(FREE)
    expect(s).toEqual({ rateLimit: 2, slotsAvailableNow: 2, slotWaitsSeconds: [] })
    expect(msUntilSlot(s)).toBe(0)
  })

  it('waits for the earliest announced slot', () => {
    const s = parseOverpassStatus(BUSY)
    expect(s.slotWaitsSeconds).toEqual([30, 7])
    expect(msUntilSlot(s)).toBe(7_000)
  })

  it('reads the singular forms and a slot already past', () => {
    expect(msUntilSlot(parseOverpassStatus('Rate limit: 1\n1 slot available now.\n'))).toBe(0)
    expect(
      msUntilSlot(
        parseOverpassStatus('Rate limit: 1\nSlot available after: 2026-11-28T10:00:00Z, in 1 second.'),
      ),
    ).toBe(1_000)
    expect(
      msUntilSlot(
        parseOverpassStatus('Rate limit: 1\nSlot available after: 2026-11-28T10:00:00Z, in -2 seconds.'),
      ),
    ).toBe(0)
  })

  it('treats rate limit 0 as unlimited', () => {
    expect(msUntilSlot(parseOverpassStatus('Connected as: 1\nRate limit: 0\n'))).toBe(0)
  })

  it('cannot tell from text that is not a status page', () => {
    expect(msUntilSlot(parseOverpassStatus('<html><body>Bad Gateway</body></html>'))).toBeNull()
    expect(msUntilSlot(parseOverpassStatus(''))).toBeNull()
  })
})

describe('statusUrl', () => {
  it('sits beside the interpreter', () => {
    expect(statusUrl('https://overpass-api.de/api/interpreter')).toBe('https://overpass-api.de/api/status')
    expect(statusUrl('https://example.org/overpass/api/interpreter/')).toBe(
      'https://example.org/overpass/api/status',
    )
    expect(statusUrl('https://example.org/custom')).toBe('https://example.org/api/status')
  })
})
