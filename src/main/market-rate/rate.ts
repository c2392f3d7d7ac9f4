/** Turns public receipt samples into a market rate: percentiles per million fuel, job prices, a suggested rate. */
import type { MarketSample } from './collector.js'

export interface MarketSummary {
  samples: number
  executors: number
  ratePerMillionFuel: { p25: number, median: number, p75: number } | null
  price: { p25: string, median: string, p75: string } | null
  /** A whole-token price per job near the median job price (at least 1), or null without enough samples. */
  suggestedPrice: string | null
}

/** Tokens per million fuel a sample paid. */
export function sampleRate (s: Pick<MarketSample, 'price' | 'fuelUsed'>): number {
  return Number(BigInt(s.price) * 1_000_000_000n / BigInt(s.fuelUsed)) / 1000
}

function quantile<T> (sorted: T[], q: number): T {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as T
}

/** Fewer samples than this and the dashboard suggests nothing. */
export const MIN_SAMPLES = 3

export function summarizeMarket (samples: MarketSample[]): MarketSummary {
  const executors = new Set(samples.map((s) => s.executorDid)).size
  if (samples.length === 0) return { samples: 0, executors: 0, ratePerMillionFuel: null, price: null, suggestedPrice: null }
  const rates = samples.map(sampleRate).sort((a, b) => a - b)
  const prices = samples.map((s) => BigInt(s.price)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const median = quantile(rates, 0.5)
  const medianPrice = quantile(prices, 0.5)
  return {
    samples: samples.length,
    executors,
    ratePerMillionFuel: { p25: quantile(rates, 0.25), median, p75: quantile(rates, 0.75) },
    price: { p25: quantile(prices, 0.25).toString(), median: medianPrice.toString(), p75: quantile(prices, 0.75).toString() },
    suggestedPrice: samples.length >= MIN_SAMPLES ? (medianPrice > 1n ? medianPrice : 1n).toString() : null
  }
}
