export * from './statement.js'
export * from './csv.js'
