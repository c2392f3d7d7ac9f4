/** The job state machine lives in src/shared (the API contract and the dashboard share it). */
export * from '../../shared/job-states.js'
