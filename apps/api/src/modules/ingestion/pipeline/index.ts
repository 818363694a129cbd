export { boundaryNameMatches, parseBoundaryAnswer } from './boundary-answer.js'
export type { Checkpoint } from './checkpoint.js'
export type { RunStats } from './finalize-phase.js'
export { createIngestionHandlers, type IngestionDeps } from './handlers.js'
