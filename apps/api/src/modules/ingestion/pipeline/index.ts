export { boundaryNameMatches, parseBoundaryAnswer } from './boundary-answer.js'
export type { Checkpoint } from './checkpoint.js'
export { createIngestionHandlers, type IngestionDeps } from './handlers.js'
export type { RunStats } from './items-phase.js'
