/** Region names (profile 4.1): lowercase [a-z0-9-], 1–63 characters. The one definition (no dependencies: the dashboard uses it too). */
export const REGION_RE = /^[a-z0-9-]{1,63}$/

export function isValidRegion (region: string): boolean {
  return REGION_RE.test(region)
}
