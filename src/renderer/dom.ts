/** Tiny DOM helpers. Text is only ever set through textContent / attributes (never innerHTML). */
export type Child = Node | string | number | null | undefined | false | Child[]
export type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>

export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v)
    else if (v === true) el.setAttribute(k, '')
    else el.setAttribute(k, String(v))
  }
  append(el, children)
  return el
}

export function append (el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c)
  }
}

const SVG = 'http://www.w3.org/2000/svg'
export function s (tag: string, attrs: Record<string, string | number> = {}, ...children: Array<SVGElement | string>): SVGElement {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c)
  return el
}

export function clear (el: Element): void {
  while (el.firstChild !== null) el.removeChild(el.firstChild)
}

export function table (headers: string[], rows: Child[][], opts: { caption?: string, testid?: string, empty?: string } = {}): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty', 'data-testid': opts.testid }, opts.empty ?? 'Nothing yet.')
  return h('div', { class: 'table-wrap' },
    h('table', { 'data-testid': opts.testid },
      opts.caption !== undefined ? h('caption', {}, opts.caption) : null,
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))))
}

export function time (ms: number): string {
  const d = new Date(ms)
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`
}

export function badge (text: string, kind: string): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text)
}

export function toast (msg: string, kind: 'ok' | 'error' = 'ok'): void {
  const el = document.getElementById('toast')
  if (el === null) return
  el.textContent = msg
  el.className = `toast show toast-${kind}`
}

/** A labelled control, with an optional hint under it and a slot for its error (shown while typing). */
export function field (label: string | Child, control: HTMLElement, hint?: string | Child, error?: HTMLElement): HTMLElement {
  const id = control.id !== '' ? control.id : `f-${Math.random().toString(36).slice(2, 9)}`
  control.id = id
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint !== undefined && hint !== null && hint !== '' ? h('small', { class: 'hint' }, hint) : null, error ?? null)
}

export function copyButton (text: string, label: string): HTMLButtonElement {
  return h('button', {
    type: 'button',
    class: 'small',
    'aria-label': label,
    onclick: (ev: Event) => {
      const btn = ev.currentTarget as HTMLButtonElement
      const done = (): void => { btn.textContent = 'Copied'; btn.dataset.copied = '1' }
      if (navigator.clipboard !== undefined) navigator.clipboard.writeText(text).then(done, () => { fallbackCopy(text); done() })
      else { fallbackCopy(text); done() }
    }
  }, 'Copy')
}

function fallbackCopy (text: string): void {
  const ta = h('textarea', { class: 'offscreen', readonly: true })
  ta.value = text
  document.body.appendChild(ta)
  ta.select()
  document.execCommand('copy')
  ta.remove()
}
