/** The typed event emitter lives in src/shared/events.ts (used by every layer). */
export * from '../../shared/events.js'
