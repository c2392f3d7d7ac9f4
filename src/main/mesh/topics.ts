/** Gossipsub topic names and message ids of wire profile section 4.1. */
import { createHash } from 'node:crypto'
import { isValidRegion } from '../../shared/protocol/index.js'
import { MeshError } from './errors.js'

export const CAPABILITIES_TOPIC = '/icn/mesh/capabilities/v1'
export const JOBS_ANNOUNCE_TOPIC = '/icn/mesh/jobs/announce/v1'
export const RECEIPTS_AVAILABLE_TOPIC = '/icn/mesh/receipts/available/v1'

export type TopicKind = 'capabilities' | 'jobs' | 'receipts'

export { isValidRegion }

export function assertRegion (region: string): void {
  if (!isValidRegion(region)) {
    throw new MeshError('InvalidInput', `invalid region "${region}": expected 1-63 characters of [a-z0-9-]`)
  }
}

export function capabilitiesTopic (region?: string): string {
  if (region === undefined) return CAPABILITIES_TOPIC
  assertRegion(region)
  return `${CAPABILITIES_TOPIC}/region/${region}`
}

export function jobsTopic (region?: string): string {
  if (region === undefined) return JOBS_ANNOUNCE_TOPIC
  assertRegion(region)
  return `${JOBS_ANNOUNCE_TOPIC}/region/${region}`
}

/** The topics a node subscribes to for the given regions (without the job-announcement ones when it only submits jobs). */
export function topicsFor (regions: readonly string[], o: { jobAnnouncements?: boolean } = {}): string[] {
  const jobs = o.jobAnnouncements ?? true
  const topics = [CAPABILITIES_TOPIC, ...(jobs ? [JOBS_ANNOUNCE_TOPIC] : []), RECEIPTS_AVAILABLE_TOPIC]
  for (const r of regions) topics.push(capabilitiesTopic(r), ...(jobs ? [jobsTopic(r)] : []))
  return topics
}

/** Classifies a topic string; undefined for topics that are not ours. */
export function parseTopic (topic: string): { kind: TopicKind, region?: string } | undefined {
  if (topic === CAPABILITIES_TOPIC) return { kind: 'capabilities' }
  if (topic === JOBS_ANNOUNCE_TOPIC) return { kind: 'jobs' }
  if (topic === RECEIPTS_AVAILABLE_TOPIC) return { kind: 'receipts' }
  for (const [prefix, kind] of [[CAPABILITIES_TOPIC, 'capabilities'], [JOBS_ANNOUNCE_TOPIC, 'jobs']] as const) {
    const p = `${prefix}/region/`
    if (topic.startsWith(p)) {
      const region = topic.slice(p.length)
      if (isValidRegion(region)) return { kind, region }
    }
  }
  return undefined
}

/** Gossipsub message id: raw SHA-256 of (UTF-8 topic ‖ 0x00 ‖ data). */
export function gossipMessageId (topic: string, data: Uint8Array): Uint8Array {
  const h = createHash('sha256')
  h.update(topic, 'utf8')
  h.update(new Uint8Array([0]))
  h.update(data)
  return new Uint8Array(h.digest())
}

/** gossipsub's fast message id (its duplicate check before signature verification): the message id as base64. */
export function gossipFastMessageId (topic: string, data: Uint8Array | undefined): string {
  return Buffer.from(gossipMessageId(topic, data ?? new Uint8Array(0))).toString('base64')
}

/** Content key used to drop duplicates across the global and the region topic. */
export function contentKey (data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64')
}
