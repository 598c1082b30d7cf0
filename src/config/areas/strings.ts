import type { Directive } from '../directives.js';

/**
 * Configuration directives owned by the strings layer (registered in config/table.ts). Redis 7.0
 * has none of its own: the string size limit is `proto-max-bulk-len` (server table), which
 * APPEND, SETRANGE, the bit commands and LCS read at run time.
 */
export const stringsDirectives: Directive[] = [];
