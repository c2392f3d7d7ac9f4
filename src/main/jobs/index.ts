export * from './executor.js'
export * from './block-store.js'
