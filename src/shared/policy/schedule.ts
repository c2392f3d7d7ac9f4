/** Weekly schedules: is a moment inside, and how to say it. Time zones through Intl (works in the browser too). */
import { WEEKDAYS, type Schedule, type Weekday } from './types.js'
import { fmtMinutes } from './fields.js'

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Local weekday and minute of day of `ms` in an IANA time zone. */
export function localTime (ms: number, timezone: string): { day: Weekday, minute: number } {
  let f = formatters.get(timezone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    formatters.set(timezone, f)
  }
  let day: Weekday = 'sun'
  let hour = 0
  let minute = 0
  for (const part of f.formatToParts(ms)) {
    if (part.type === 'weekday') day = part.value.toLowerCase().slice(0, 3) as Weekday
    else if (part.type === 'hour') hour = Number(part.value)
    else if (part.type === 'minute') minute = Number(part.value)
  }
  return { day, minute: hour * 60 + minute }
}

function prevDay (d: Weekday): Weekday {
  const i = WEEKDAYS.indexOf(d)
  return WEEKDAYS[(i + 6) % 7] ?? 'sun'
}

/** Is `ms` inside one of the schedule's windows? A window with to ≤ from runs past midnight into the next day. */
export function inSchedule (s: Schedule, ms: number): { inside: boolean, day: Weekday, minute: number } {
  const { day, minute } = localTime(ms, s.timezone)
  for (const w of s.windows) {
    if (w.from < w.to) {
      if (w.days.includes(day) && minute >= w.from && minute < w.to) return { inside: true, day, minute }
    } else {
      if (w.days.includes(day) && minute >= w.from) return { inside: true, day, minute }
      if (w.days.includes(prevDay(day)) && minute < w.to) return { inside: true, day, minute }
    }
  }
  return { inside: false, day, minute }
}

export function describeSchedule (s: Schedule): string {
  return s.windows.map((w) => `${w.days.join(',')} ${fmtMinutes(w.from)}-${fmtMinutes(w.to)}`).join('; ')
}
