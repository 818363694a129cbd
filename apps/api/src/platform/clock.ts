/** Time as a dependency, so tests can pin "today" (run dates are per city time zone). */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** 'YYYY-MM-DD' of an instant in an IANA time zone. */
export function dateInZone(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant)
}
