/** The executor-side job state machine: the one list of job states (the store, the API contract and the dashboard use it). */
export const JOB_STATES = ['Assigned', 'Accepted', 'FetchingInputs', 'Running', 'Completed', 'Failed', 'Cancelled'] as const
export type JobState = (typeof JOB_STATES)[number]

export const TERMINAL_STATES: readonly JobState[] = ['Completed', 'Failed', 'Cancelled']
export const ACTIVE_STATES: readonly JobState[] = ['Assigned', 'Accepted', 'FetchingInputs', 'Running']

/**
 * Allowed transitions. The happy path is Assigned → Accepted → FetchingInputs → Running → Completed;
 * any non-terminal state may end in Failed or Cancelled. Terminal states have no way out.
 */
const NEXT: Record<JobState, readonly JobState[]> = {
  Assigned: ['Accepted', 'Failed', 'Cancelled'],
  Accepted: ['FetchingInputs', 'Failed', 'Cancelled'],
  FetchingInputs: ['Running', 'Failed', 'Cancelled'],
  Running: ['Completed', 'Failed', 'Cancelled'],
  Completed: [],
  Failed: [],
  Cancelled: []
}

export function canTransition (from: JobState, to: JobState): boolean {
  return NEXT[from].includes(to)
}

export function isJobState (s: string): s is JobState {
  return (JOB_STATES as readonly string[]).includes(s)
}
