/** `npm run fuzz [-- iterations seed]`: a long fuzz run of the decoder and validator. */
import { fuzz } from './fuzz.js'
const iterations = Number(process.argv[2] ?? 2_000_000)
const seed = Number(process.argv[3] ?? Date.now() % 1e9)
const t0 = performance.now()
const stats = fuzz(iterations, seed)
console.log(JSON.stringify({ fuzz: 'protocol', seed, ...stats, seconds: Math.round((performance.now() - t0) / 100) / 10 }))
