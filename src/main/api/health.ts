/**
 * The health check behind the Overview's banner: why work can or cannot come to this node right now,
 * each reason with its fix. Pure: the daemon adapter gathers the facts (peers, bootstrap failures,
 * pause, schedule, battery, temperature, runtime…) and the service adds what the store says about
 * recent announcements and bids.
 */
import { isDiskFullError } from '../probe/disk-space.js'
import { formatBytes } from '../market/index.js'
import { formatTokens, type HealthReason, type HealthView, type ReachabilityState } from '../../shared/api/index.js'

export interface HealthFacts {
  online: boolean
  peers: number
  draining: boolean
  /** A recent daemon error worth showing (not one explained by another reason). */
  error: string | null
  autoBid: boolean
  /** epoch ms, or null */
  pausedUntil: number | null
  /** Why the sandbox cannot run jobs, or null when it can. */
  runtimeUnavailable: string | null
  /** Bootstrap peers configured and the recent dial failures (newest first). */
  bootstrap: { configured: string[], failures: Array<{ addr: string, error: string, at: number }> }
  /** The policy's schedule, when there is one. */
  schedule: { inside: boolean, description: string, timezone: string } | null
  /** The machine on battery while stop-on-battery is on. */
  onBattery: boolean
  /** Idle-only is on and the machine is busy: why (e.g. "load 0.80 per core > 0.5"), else null. */
  notIdle: string | null
  /** The data dir's disk has less free space than a job needs (rule `disk`): bytes free and needed. */
  diskFull: { freeBytes: number, neededBytes: number } | null
  /** The thermal guard holds bids: the temperature and the limits. */
  tooHot: { tempC: number, stopAboveC: number, resumeBelowC: number } | null
  slots: { active: number, max: number }
  reachability: ReachabilityState
  /** The pricing charges nothing. */
  free: boolean
  /** What we ask now, in words (for messages), e.g. "5 tokens per job". */
  priceText: string
  /** Market from public receipts, per job: what we ask (median quote) vs. what buyers paid (tokens). */
  market: { ours: string, median: string, p75: string, samples: number } | null
}

/** What the store says about the recent past (the service queries it). */
export interface RecentActivity {
  /** Announcements heard in the last hour. */
  announcementsLastHour: number
  /** Last 24 h: announcements skipped because the job's max_price was below our price, and the best max_price among them. */
  priceSkips: { count: number, of: number, bestMaxPrice: string | null, ourPrice: string | null }
  /** Last 24 h: bid outcomes. */
  bids: { won: number, lost: number, notSent: number, lastError: string | null }
}

const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'

export function computeHealth (f: HealthFacts, recent: RecentActivity, now: number): HealthView {
  const r: HealthReason[] = []
  const add = (x: HealthReason): void => { r.push(x) }

  if (f.draining) add({ code: 'draining', severity: 'blocking', title: 'The node is shutting down', detail: 'It takes no new jobs and lets the running ones finish.', fix: 'Start it again when you want to sell compute.' })
  if (f.runtimeUnavailable !== null) {
    add({ code: 'no_runtime', severity: 'blocking', title: 'This node cannot run jobs', detail: f.runtimeUnavailable, fix: 'Build the sandbox host (npm run build:sandbox-host; needs Rust and cargo) and restart the node.' })
  }
  if (f.pausedUntil !== null && f.pausedUntil > now) {
    add({ code: 'paused', severity: 'blocking', title: `Paused until ${time(f.pausedUntil)}`, detail: 'You paused bidding; no bids go out until then.', fix: 'Resume to bid again now.', action: { kind: 'resume' } })
  }
  if (!f.autoBid) add({ code: 'autobid_off', severity: 'blocking', title: 'Auto-bid is off', detail: 'Announcements are recorded, but no bids go out.', fix: 'Turn auto-bid on.', action: { kind: 'autobid_on' } })
  if (!f.online || f.peers === 0) {
    const failed = f.bootstrap.failures[0]
    if (failed !== undefined && f.bootstrap.configured.length > 0) {
      const distinct = new Set(f.bootstrap.failures.map((x) => x.addr)).size
      add({
        code: 'bootstrap_unreachable',
        severity: 'blocking',
        title: distinct > 1 ? `${distinct} bootstrap peers unreachable` : 'Bootstrap peer unreachable',
        detail: `${failed.addr}: ${failed.error}`,
        fix: 'Check the address and that the peer is running (it is retried every 30 s), or add another bootstrap peer in Settings and restart the node.',
        action: { kind: 'link', href: '#/settings', label: 'Bootstrap peers' }
      })
    } else {
      add({
        code: 'no_peers',
        severity: 'blocking',
        title: 'Not connected to the mesh',
        detail: f.bootstrap.configured.length === 0 ? 'No bootstrap peer is configured and no peer has connected: nobody can send this node jobs.' : 'No peer is connected yet.',
        fix: f.bootstrap.configured.length === 0 ? 'Add a bootstrap peer (an address ending in /p2p/<peer id>) in Settings and restart the node.' : 'Wait a moment; if it stays like this, check your network and the bootstrap peers in Settings.',
        action: { kind: 'link', href: '#/settings', label: 'Settings' }
      })
    }
  }
  if (f.schedule !== null && !f.schedule.inside) {
    add({ code: 'outside_schedule', severity: 'blocking', title: 'Outside your schedule', detail: `Bids go out only ${f.schedule.description} (${f.schedule.timezone}).`, fix: 'Wait for the next window, or change the schedule in Policies.', action: { kind: 'link', href: '#/policies', label: 'Schedule' } })
  }
  if (f.onBattery) add({ code: 'on_battery', severity: 'blocking', title: 'On battery power', detail: 'Your policy stops bidding while the machine runs on battery.', fix: 'Plug the machine in, or turn off "Stop on battery" in Policies.', action: { kind: 'link', href: '#/policies', label: 'Policies' } })
  if (f.notIdle !== null) add({ code: 'not_idle', severity: 'blocking', title: 'The machine is busy', detail: `Idle-only is on: ${f.notIdle}.`, fix: 'Bids resume by themselves when the machine is idle; or turn off "Only when idle" in Policies.', action: { kind: 'link', href: '#/policies', label: 'Policies' } })
  if (f.tooHot !== null) {
    add({ code: 'too_hot', severity: 'blocking', title: `CPU too hot (${f.tooHot.tempC.toFixed(0)} °C)`, detail: `Bidding stopped above ${f.tooHot.stopAboveC} °C and resumes below ${f.tooHot.resumeBelowC} °C.`, fix: 'Let the machine cool down (check its fans and airflow), or raise the limit in Policies.', action: { kind: 'link', href: '#/policies', label: 'Thermal guard' } })
  }
  if (f.diskFull !== null) {
    add({ code: 'disk_full', severity: 'blocking', title: 'The disk is almost full', detail: `The data directory's disk has ${formatBytes(f.diskFull.freeBytes)} free; a job needs ${formatBytes(f.diskFull.neededBytes)} (its output, its records, the module cache), so no bids go out.`, fix: 'Free space on that disk, or move the data directory to a larger one (docs/OPERATIONS.md). Bidding resumes by itself within seconds.' })
  }
  if (f.slots.max > 0 && f.slots.active >= f.slots.max) {
    add({ code: 'all_slots_busy', severity: 'info', title: 'Busy: every job slot is in use', detail: `${f.slots.active} of ${f.slots.max} job${f.slots.max === 1 ? '' : 's'} at a time.`, fix: 'New bids go out when a job finishes; allow more jobs at once in Policies if the machine can take them.' })
  } else if (f.slots.max === 0) {
    add({ code: 'all_slots_busy', severity: 'blocking', title: 'No job slots', detail: 'Your policy allows 0 jobs at a time.', fix: 'Set "Jobs at the same time" to 1 or more in Policies.', action: { kind: 'link', href: '#/policies', label: 'Policies' } })
  }

  // the price: free, above what the jobs offer, above what buyers pay elsewhere
  if (f.free) add({ code: 'selling_free', severity: 'warning', title: 'You are selling for free', detail: 'Your price is 0 tokens: every job this node runs earns nothing.', fix: 'Set a price in Policies (the market rate there shows what buyers pay).', action: { kind: 'link', href: '#/policies', label: 'Set a price' } })
  const ps = recent.priceSkips
  if (ps.count > 0 && ps.count >= Math.max(1, Math.ceil(ps.of / 2))) {
    add({
      code: 'price_above_buyers',
      severity: 'warning',
      title: 'Your price is above what the jobs pay',
      detail: `${ps.count} of the last ${ps.of} job${ps.of === 1 ? '' : 's'} offered less than your price${ps.ourPrice !== null ? ` (you ask ${formatTokens(ps.ourPrice)}` : ''}${ps.bestMaxPrice !== null ? `${ps.ourPrice !== null ? ', ' : ' ('}the best offered ${formatTokens(ps.bestMaxPrice)}` : ''}${ps.ourPrice !== null || ps.bestMaxPrice !== null ? ')' : ''}.`,
      fix: 'Lower your price in Policies; the simulator there shows what you would have bid on.',
      action: { kind: 'link', href: '#/policies', label: 'Price' }
    })
  }
  if (f.market !== null && f.market.samples >= 3 && BigInt(f.market.ours) > BigInt(f.market.p75) && !f.free) {
    add({
      code: 'price_above_market',
      severity: 'warning',
      title: 'Your price is above the market',
      detail: `You ask ${formatTokens(f.market.ours)} for a typical job; buyers paid a median of ${formatTokens(f.market.median)} per job (${f.market.samples} recent signed receipts).`,
      fix: 'Buyers usually pick a cheaper bid: consider the suggested price in Policies.',
      action: { kind: 'link', href: '#/market', label: 'Market rate' }
    })
  }
  if (f.reachability === 'unreachable') {
    add({ code: 'unreachable', severity: 'warning', title: 'Buyers cannot reach this node', detail: 'It is behind a NAT and no relay holds a reservation for it, so bids and assignments may not get through.', fix: 'Add a relay as bootstrap peer, forward a port to this machine, or enable UPnP on your router.', action: { kind: 'link', href: '#/settings', label: 'Reachability' } })
  }
  if (recent.bids.notSent >= 2) {
    add({ code: 'bids_not_delivered', severity: 'warning', title: `${recent.bids.notSent} bids did not reach their buyers (last 24 h)`, detail: recent.bids.lastError ?? 'delivery failed', fix: 'Check that this node is reachable (Settings → Reachability); buyers that cannot be reached are skipped for a while.' })
  }
  if (recent.bids.lost >= 5 && recent.bids.won === 0) {
    add({ code: 'bids_losing', severity: 'warning', title: `No bid won in the last 24 h (${recent.bids.lost} lost)`, detail: 'Buyers chose other executors, usually cheaper ones or ones with a longer record.', fix: 'Lower your price a little; the market rate on the Market page shows what buyers paid.', action: { kind: 'link', href: '#/market', label: 'Market' } })
  }
  // a disk-full error is the disk_full reason above, not a separate problem
  if (f.error !== null && !(f.diskFull !== null && isDiskFullError(f.error))) add({ code: 'daemon_error', severity: 'warning', title: 'The node reported an error', detail: f.error, fix: 'See the Logs page for the details.', action: { kind: 'link', href: '#/logs', label: 'Logs' } })
  if (f.online && f.peers > 0 && recent.announcementsLastHour === 0) {
    add({ code: 'no_announcements', severity: 'info', title: 'No jobs announced in the last hour', detail: `Connected to ${f.peers} peer${f.peers === 1 ? '' : 's'}, but nobody announced a job.`, fix: 'Nothing to fix: the mesh is quiet. Jobs are bid on as soon as they are announced.' })
  }

  const order = { blocking: 0, warning: 1, info: 2 }
  r.sort((a, b) => order[a.severity] - order[b.severity])
  const blocking = r.filter((x) => x.severity === 'blocking')
  const summary = blocking.length > 0
    ? `No work can come: ${lowerFirst(blocking[0]?.title ?? '')}${blocking.length > 1 ? ` (and ${blocking.length - 1} more)` : ''}`
    : r.some((x) => x.severity === 'warning') ? `Bidding at ${f.priceText} — with ${r.filter((x) => x.severity === 'warning').length === 1 ? 'a problem' : 'problems'} to look at` : `Ready for work: bidding at ${f.priceText}`
  return { canBid: blocking.length === 0, summary, reasons: r }
}

/** "Paused until 08:00" → "paused until 08:00"; an acronym stays as it is ("CPU too hot"). */
export function lowerFirst (title: string): string {
  return /^[A-Z][A-Z0-9]/.test(title) ? title : title.replace(/^./, (c) => c.toLowerCase())
}
