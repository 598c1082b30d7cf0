import type { Directive } from '../directives.js';

/** Configuration directives owned by the hashes layer (registered in config/table.ts). */
export const hashesDirectives: Directive[] = [];
