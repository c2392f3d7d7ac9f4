/**
 * The running jobs card: each job's work done (a bar updated by job:progress events, no reload) and its
 * elapsed time, ticked every second in the daemon's clock (so it does not depend on the clocks agreeing).
 */
import type { ApiEvents, RunningJobView } from '../../../shared/api/contract.js'
import { formatAmount, formatDuration, formatTokens } from '../../../shared/api/format.js'
import { h, clear, table } from '../../dom.js'

type Progress = ApiEvents['job:progress']

export interface RunningJobs {
  /** Re-draws the card; `skew` is the daemon's clock minus ours. */
  render(jobs: RunningJobView[], skew: number): void
  /** Moves a job's bar; false if the job is not shown (the caller re-reads the status). */
  progress(p: Progress): boolean
  /** Updates the elapsed times. */
  tick(): void
}

export function runningJobs (box: HTMLElement): RunningJobs {
  const progressEls = new Map<string, { bar: HTMLProgressElement, text: HTMLElement }>()
  /** elapsed cells of running jobs (startedAt in the daemon's clock) */
  const elapsedEls = new Map<string, { el: HTMLElement, startedAt: number }>()
  let skew = 0
  return {
    render (jobs, clockSkew) {
      skew = clockSkew
      clear(box)
      progressEls.clear()
      elapsedEls.clear()
      box.append(h('h2', { id: 'h-running' }, 'Running jobs'))
      if (jobs.length === 0) { box.append(h('p', { class: 'empty' }, 'No job is running right now.')); return }
      const rows = jobs.map((j) => {
        const bar = h('progress', { max: 1000, value: Math.round(j.fuelFraction * 1000), 'aria-label': `work done of ${j.announcementId}` })
        const text = h('span', { class: 'mono', 'data-testid': `fuel-${j.announcementId}` }, `${formatAmount(j.fuelUsed)} / ${formatAmount(j.maxFuel)}`)
        progressEls.set(j.announcementId, { bar, text })
        const elapsed = h('span', { 'data-testid': `elapsed-${j.announcementId}` }, formatDuration(Date.now() + skew - j.startedAt))
        elapsedEls.set(j.announcementId, { el: elapsed, startedAt: j.startedAt })
        return [
          h('span', {}, j.description ?? h('span', { class: 'hint' }, 'no description'), h('br', {}), h('a', { href: `#/jobs/${encodeURIComponent(j.announcementId)}`, class: 'mono small' }, j.announcementId)),
          j.state, h('div', {}, text, h('br', {}), bar), formatTokens(j.price), elapsed, `${j.timeoutSeconds} s`
        ]
      })
      box.append(table(['Job', 'State', 'Work done (fuel)', 'Price', 'Elapsed', 'Time limit'], rows, { testid: 'running-jobs' }))
    },
    progress (p) {
      const el = progressEls.get(p.announcementId)
      if (el === undefined) return false
      el.bar.value = Math.round(p.fuelFraction * 1000)
      el.text.textContent = `${formatAmount(p.fuelUsed)} / ${formatAmount(p.maxFuel)}`
      return true
    },
    tick () {
      const t = Date.now() + skew
      for (const { el: cell, startedAt } of elapsedEls.values()) cell.textContent = formatDuration(t - startedAt)
    }
  }
}
