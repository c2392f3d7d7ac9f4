/** `jobs.*`: the job list and one job's detail (timeline, logs, receipts), with live fuel where running. */
import { ApiError } from '../../../shared/api/index.js'
import { jobView, receiptSummary } from '../convert.js'
import type { ApiContext } from '../context.js'
import type { Handlers, MethodsOf } from './types.js'

export function jobsHandlers (ctx: ApiContext): Handlers<MethodsOf<'jobs'>> {
  const { store, q, now } = ctx
  return {
    'jobs.list': (a) => {
      const fuel = ctx.liveFuel()
      const t = now()
      return store.listJobs(a).map((j) => jobView(j, t, fuel.get(j.announcementId)?.fuel ?? ctx.fuelFromReceipts(j.announcementId), q.description(j.announcementId), q.earned(j.announcementId)))
    },
    'jobs.get': (a) => {
      const j = store.getJob(a.announcementId)
      if (j === undefined) throw new ApiError('NotFound', `no job ${a.announcementId}`)
      const fuel = ctx.liveFuel().get(j.announcementId)?.fuel ?? ctx.fuelFromReceipts(j.announcementId)
      const description = q.description(j.announcementId)
      return {
        job: jobView(j, now(), fuel, description, q.earned(j.announcementId)),
        timeline: store.jobTimeline(j.announcementId).map((t) => ({ from: t.from ?? null, to: t.to, at: t.at, details: t.details ?? null })),
        logs: store.jobLogs(j.announcementId),
        receipts: store.receiptsForJob(j.announcementId).map((r) => receiptSummary(r, description))
      }
    }
  }
}
