import type { Directive } from '../directives.js';

/** Configuration directives owned by the streams layer (registered in config/table.ts). */
export const streamsDirectives: Directive[] = [];
