/** Small text helpers used by the node's messages and the CLI. */

/** A long id (DID, PeerId, CID, announcement id) shortened for people: `did:key:z6Mk…ueMikP`. Ids of up to `max` characters stay whole. */
export function shortId (s: string, max = 24, head = 14, tail = 6): string {
  return s.length > max ? `${s.slice(0, head)}…${s.slice(-tail)}` : s
}

/** `Reason: detail` for a status, a job log or an error, without repeating a reason the detail already starts with (profile 6.3: a Failed status's details start with its code). */
export function failureText (reason: string, detail: string | undefined): string {
  const d = (detail ?? '').trim()
  if (d === '' || d === reason) return reason
  return d.startsWith(`${reason}: `) ? d : `${reason}: ${d}`
}
