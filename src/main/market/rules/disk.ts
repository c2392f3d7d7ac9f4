import { DISK_RESERVE_BYTES } from '../../../shared/policy/index.js'
import { formatBytes } from './relay.js'
import { fail, pass, type RuleDef } from './rule.js'

/** No bids while the data directory's disk has less than DISK_RESERVE_BYTES free: a won job could not be recorded. */
export const disk: RuleDef<'disk'> = {
  id: 'disk',
  evaluate: ({ ctx }) => {
    const free = ctx.machine?.dataDirFreeBytes
    if (free === undefined) return pass('free disk space unknown')
    if (free < DISK_RESERVE_BYTES) return fail(`the data directory's disk has ${formatBytes(free)} free, under the ${formatBytes(DISK_RESERVE_BYTES)} a job needs`)
    return pass(`${formatBytes(free)} free ≥ ${formatBytes(DISK_RESERVE_BYTES)}`)
  }
}
