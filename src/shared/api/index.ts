export * from './contract.js'
export * from './validate.js'
export * from './format.js'
