import type { Selectable } from 'kysely'
import type { IngestionRunTable } from '../../platform/db/schema.js'

export type RunRow = Selectable<IngestionRunTable> & { city_slug: string | null; created_cursor: string }

/** The public shape of a run; one function so every endpoint shows a job the same way. */
export function runView(r: RunRow) {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    city: r.city_slug,
    boundary_ref: r.boundary_ref,
    run_date: r.run_date,
    idempotency_key: r.idempotency_key,
    source: r.source as Record<string, unknown>,
    trigger: r.trigger,
    attempts: r.attempts,
    max_attempts: r.max_attempts,
    cancel_requested: r.cancel_requested,
    progress: r.progress,
    stats: r.stats,
    error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
    created_at: r.created_at.toISOString(),
    started_at: r.started_at?.toISOString() ?? null,
    finished_at: r.finished_at?.toISOString() ?? null,
    heartbeat_at: r.heartbeat_at?.toISOString() ?? null,
  }
}

export type RunView = ReturnType<typeof runView>
