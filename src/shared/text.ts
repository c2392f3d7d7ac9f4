/** Small text helpers used by the node's messages and the CLI. */

/** A long id (DID, PeerId, CID, announcement id) shortened for people: `did:key:z6Mk…ueMikP`. Ids of up to `max` characters stay whole. */
export function shortId (s: string, max = 24, head = 14, tail = 6): string {
  return s.length > max ? `${s.slice(0, head)}…${s.slice(-tail)}` : s
}
