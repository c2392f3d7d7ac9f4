export * from './collector.js'
export * from './rate.js'
