/**
 * The owner's bidding policy and what decisions are made from — types both the node and the dashboard
 * use (the dashboard validates drafts with the same code as the CLI and the API).
 */
import type { QosProfile } from '../protocol/types.js'

export type Pricing =
  | { mode: 'fixed', price: bigint }
  | { mode: 'per_mfuel', ratePerMillionFuel: bigint }
  | { mode: 'floor_plus_rate', floor: bigint, ratePerMillionFuel: bigint }

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Weekday = (typeof WEEKDAYS)[number]

export interface ScheduleWindow {
  days: Weekday[]
  /** minutes since local midnight, inclusive */
  from: number
  /** minutes since local midnight, exclusive; may be ≤ from for a window that crosses midnight */
  to: number
}

export interface Schedule {
  /** IANA time zone, e.g. "Europe/Berlin"; default "UTC" */
  timezone: string
  windows: ScheduleWindow[]
}

export interface OriginatorRecordRule {
  /** Skip an originator we bid on this many times without ever being assigned. */
  maxBidsWithoutAssignment?: number
  /** Skip an originator whose jobs failed on us this many times with none completed. */
  maxFailedWithoutCompletion?: number
}

export interface IdleRule {
  /** 1-minute load average divided by core count must be ≤ this. */
  maxLoadPerCore?: number
  /** The user must have been idle at least this long (when the platform reports it). */
  minUserIdleSeconds?: number
  /**
   * Flapping guard: a busy spike shorter than this does not stop bidding, and after a busy spell the
   * machine must stay idle this long before bidding resumes (default DEFAULT_IDLE_GRACE_SECONDS).
   */
  graceSeconds?: number
}

/** Stop bidding when the CPU is hotter than `stopAboveC`; resume once it is cooler than `resumeBelowC` (hysteresis). */
export interface ThermalGuardRule {
  stopAboveC: number
  resumeBelowC: number
}

/** The owner's caps on what is offered. Fractions are 0–1 of the machine; absolute caps bound them further. */
export interface ResourceCaps {
  cpuFraction?: number
  cpuCores?: number
  ramFraction?: number
  ramBytes?: number
  diskBytes?: number
  /** Offer the machine's GPUs (default true). */
  offerGpus?: boolean
}

/** What we offer: the machine's hardware with the owner's caps applied. */
export interface Offer {
  /** cores, at most 3 decimals */
  cpu: number
  ramBytes: number
  diskBytes?: number
  gpus: Record<string, number>
}

/** What the policy knows about the machine right now (sampled by the node's probe). */
export interface MachineState {
  /** 1-minute load average */
  loadAvg: number
  /** logical cores, to normalise loadAvg (defaults to the offer's hardware count when absent) */
  cpuCount?: number
  /** seconds since the last user input, when the platform reports it */
  userIdleSeconds?: number
  /** true on battery, false on mains, undefined when unknown */
  onBattery?: boolean
  /** CPU temperature (°C), when the hardware reports it */
  cpuTemperatureC?: number
  /** bytes free on the data directory's file system, when known */
  dataDirFreeBytes?: number
}

export interface Policy {
  autoBid: boolean
  pricing: Pricing
  maxConcurrentJobs: number
  offer: ResourceCaps
  /** empty = any region */
  allowedRegions: string[]
  /** empty = anyone not blocked */
  allowedOriginators: string[]
  blockedOriginators: string[]
  minOriginatorRecord: OriginatorRecordRule
  /** QoS profiles we bid on */
  acceptedQos: QosProfile[]
  /** undefined = always on */
  schedule: Schedule | undefined
  /** epoch ms; undefined = not paused */
  pausedUntil: number | undefined
  idleOnly: IdleRule | undefined
  stopOnBattery: boolean
  /** undefined = no thermal guard */
  thermalGuard: ThermalGuardRule | undefined
  maxTimeoutSeconds: number | undefined
  maxFuel: bigint | undefined
  allowInteractive: boolean
  /** Don't bid when the bidding window closes sooner than this (ms). */
  bidMarginMs: number
}

/** One problem with a policy: its JSON path, the field's label (for people), and what is wrong. */
export interface PolicyError { path: string, label: string, message: string }
export type PolicyValidation = { ok: true, policy: Policy } | { ok: false, errors: PolicyError[] }

export type PolicyJsonValue = null | boolean | number | string | PolicyJsonValue[] | { [key: string]: PolicyJsonValue }
export type PolicyJson = { [key: string]: PolicyJsonValue }
