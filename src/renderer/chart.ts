/** Inline SVG bar chart of earnings per day (no external library, CSP-safe). */
import { s } from './dom.js'

export function earningsChart (days: Array<{ day: string, amount: string, jobs: number }>, nDays: number, today: Date = new Date()): SVGElement {
  const byDay = new Map(days.map((d) => [d.day, d]))
  const series: Array<{ day: string, value: number, jobs: number }> = []
  for (let i = nDays - 1; i >= 0; i--) {
    const d = new Date(today.getTime() - i * 86_400_000)
    const key = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
    const row = byDay.get(key)
    series.push({ day: key, value: row === undefined ? 0 : Number(row.amount), jobs: row?.jobs ?? 0 })
  }
  const W = 600
  const H = 160
  const pad = { l: 40, r: 8, t: 10, b: 22 }
  const max = Math.max(1, ...series.map((p) => p.value))
  const bw = (W - pad.l - pad.r) / series.length
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Earnings per day over the last ${nDays} days, maximum ${max}`, class: 'chart', 'data-testid': 'earnings-chart' })
  const y = (v: number): number => H - pad.b - (v / max) * (H - pad.t - pad.b)
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(max * frac)
    svg.appendChild(s('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }))
    svg.appendChild(s('text', { x: pad.l - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, String(v)))
  }
  series.forEach((p, i) => {
    const x = pad.l + i * bw + 1
    const top = y(p.value)
    const bar = s('rect', { x, y: top, width: Math.max(1, bw - 2), height: Math.max(0, H - pad.b - top), class: p.value > 0 ? 'bar' : 'bar zero', 'data-day': p.day, 'data-amount': p.value })
    bar.appendChild(s('title', {}, `${p.day}: ${p.value} tokens, ${p.jobs} job${p.jobs === 1 ? '' : 's'}`))
    svg.appendChild(bar)
    if (i === 0 || i === series.length - 1 || i === Math.floor(series.length / 2)) {
      svg.appendChild(s('text', { x: x + bw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, p.day.slice(5)))
    }
  })
  return svg
}
