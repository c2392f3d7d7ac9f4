/** The small HTML pages the server answers browsers with: 401 (how to get in) and 404. */

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A small page in the dashboard's style (its stylesheet is public), for 401 and 404 answers to browsers. */
export function infoPage (title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Mesh Executor</title><link rel="icon" href="/icon.png"><link rel="stylesheet" href="/app.css"></head>
<body><header class="top"><div class="brand"><span class="dot" aria-hidden="true"></span> Mesh Executor</div></header>
<main id="main"><section class="card wide info-page" data-testid="info-page"><h1>${escapeHtml(title)}</h1>${body}</section></main></body></html>
`
}

export const UNAUTHORIZED_PAGE = infoPage('Open the dashboard with its access address', `
<p>This is the dashboard of a Mesh Executor node on this computer. It only opens with its access address, which carries a secret token, so other programs and web pages cannot use it.</p>
<p>To get the address, run this in a terminal on this computer:</p>
<pre class="command" data-testid="login-command">mesh-executor dashboard --open</pre>
<p class="hint">It prints the address (and with <code>--open</code> opens it in your browser). If the node uses another data directory, add <code>--data-dir DIR</code>. The token stays the same across restarts, so a bookmark of that address keeps working.</p>
<p class="hint">No node running? Start one with <code>mesh-executor start --ui-port 8787</code>; the address is printed when it is ready.</p>`)

export const NOT_FOUND_PAGE = infoPage('Page not found', `
<p>There is no such page on this dashboard.</p>
<p><a href="/">Go to the overview</a></p>`)
