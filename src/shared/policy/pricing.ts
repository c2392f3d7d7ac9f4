import type { Pricing } from './types.js'

export interface PriceQuote {
  price: bigint
  /** Human explanation of how the price was computed, e.g. "floor 8 + 6 for 3000000 fuel". */
  breakdown: string
}

/** ceil(fuel × rate / 1e6): a rate is per million fuel, rounded up to whole tokens. */
export function fuelCharge (maxFuel: bigint, ratePerMillionFuel: bigint): bigint {
  const n = maxFuel * ratePerMillionFuel
  return (n + 999_999n) / 1_000_000n
}

export function quote (pricing: Pricing, maxFuel: bigint): PriceQuote {
  switch (pricing.mode) {
    case 'fixed':
      return { price: pricing.price, breakdown: `fixed ${pricing.price}` }
    case 'per_mfuel': {
      const c = fuelCharge(maxFuel, pricing.ratePerMillionFuel)
      return { price: c, breakdown: `${pricing.ratePerMillionFuel} per 1M fuel × ${maxFuel} fuel` }
    }
    case 'floor_plus_rate': {
      const c = fuelCharge(maxFuel, pricing.ratePerMillionFuel)
      return { price: pricing.floor + c, breakdown: `floor ${pricing.floor} + ${c} for ${maxFuel} fuel` }
    }
  }
}

/** True when this pricing charges nothing for any job (the default policy does): worth a loud warning. */
export function sellsForFree (pricing: Pricing): boolean {
  switch (pricing.mode) {
    case 'fixed': return pricing.price === 0n
    case 'per_mfuel': return pricing.ratePerMillionFuel === 0n
    case 'floor_plus_rate': return pricing.floor === 0n && pricing.ratePerMillionFuel === 0n
  }
}
