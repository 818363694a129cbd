import { requireAdmin } from '../../platform/http/admin-auth.js'
import { createRouter } from '../../platform/http/router.js'
import {
  cancelJob,
  cronIngestion,
  cronReap,
  getJob,
  jobCallback,
  listJobs,
  retryJob,
} from './jobs.handlers.js'
import {
  callbackRoute,
  cancelJobRoute,
  cronGetRoute,
  cronPostRoute,
  getJobRoute,
  listJobsRoute,
  reapGetRoute,
  reapPostRoute,
  retryJobRoute,
} from './jobs.routes.js'
import { requireCronCaller, requireQStashSignature } from './signed-request.js'

export { findRun } from './jobs.queries.js'
export { enqueuedResponse, JobSchema } from './jobs.routes.js'
export { enqueueDaily, enqueueRun, idempotencyKey, type JobDeps, retryRun } from './jobs.service.js'
export { runView } from './run-view.js'

export function jobsRouter() {
  const router = createRouter()
  router.use('/v1/jobs/callback', requireQStashSignature)
  router.use('/v1/cron/ingestion', requireCronCaller)
  router.use('/v1/cron/reap', requireCronCaller)
  router.use('/v1/admin/jobs', requireAdmin)
  router.use('/v1/admin/jobs/*', requireAdmin)
  router.use('/v1/jobs/:job_id', async (c, next) => (c.req.method === 'GET' ? requireAdmin(c, next) : next()))
  return router
    .openapi(callbackRoute, jobCallback)
    .openapi(getJobRoute, getJob)
    .openapi(listJobsRoute, listJobs)
    .openapi(cancelJobRoute, cancelJob)
    .openapi(retryJobRoute, retryJob)
    .openapi(cronPostRoute, cronIngestion)
    .openapi(cronGetRoute, cronIngestion)
    .openapi(reapPostRoute, cronReap)
    .openapi(reapGetRoute, cronReap)
}
