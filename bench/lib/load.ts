import autocannon from 'autocannon'
import { round } from './service.js'

export interface LoadResult {
  requests_per_s: number
  p50_ms: number
  p99_ms: number
  errors: number
  non_2xx: number
  total: number
}

/** A bounded autocannon run against a local address. */
export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ duration: 10, connections: 20, ...opts })
  return {
    requests_per_s: round(r.requests.average, 0),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non_2xx: r.non2xx,
    total: r.requests.total,
  }
}
