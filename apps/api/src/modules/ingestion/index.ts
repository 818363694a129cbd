/** What other modules and the composition root use of ingestion. */

export { changeStateOf } from './change-state.js'
export { ingestionRouter } from './ingestion.router.js'
export { isMostlyCyrillic } from './names.js'
export {
  boundaryNameMatches,
  type Checkpoint as IngestionCheckpoint,
  createIngestionHandlers,
  type IngestionDeps,
  parseBoundaryAnswer,
  type RunStats as IngestionRunStats,
} from './pipeline/index.js'
export { detectExtractFormat } from './sources/extract-format.js'
