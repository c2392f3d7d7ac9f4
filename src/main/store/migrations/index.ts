import { migration001 } from './001_init.js'
import { migration002 } from './002_originator_side.js'
import { migration003 } from './003_regions_and_ui_indexes.js'
import { migration004 } from './004_job_outputs.js'
import { migration005 } from './005_bid_time_index.js'
import { migration006 } from './006_bid_refusals.js'
import type { Migration } from './types.js'

export type { Migration } from './types.js'

/** Every migration, in order. Versions are 1..N without gaps; never edit a shipped one, add a new one. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006]

export const LATEST_VERSION: number = MIGRATIONS.length
