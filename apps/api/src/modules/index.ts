import { accountsRouter } from './accounts/index.js'
import { catalogRouter } from './catalog/index.js'
import { citiesRouter } from './cities/index.js'
import { healthRouter } from './health/index.js'
import { ingestionRouter } from './ingestion/index.js'
import { jobsRouter } from './jobs/index.js'
import { mapsRouter } from './maps/index.js'
import { operatorsRouter } from './operators/index.js'
import { packsRouter } from './packs/index.js'
import { placesRouter } from './places/index.js'
import { publishingRouter } from './publishing/index.js'
import { purchasesRouter } from './purchases/index.js'

/** Every feature's router, mounted by createApp in this order. */
export const modules = [
  healthRouter,
  citiesRouter,
  ingestionRouter,
  jobsRouter,
  publishingRouter,
  placesRouter,
  mapsRouter,
  catalogRouter,
  accountsRouter,
  purchasesRouter,
  packsRouter,
  operatorsRouter,
]
