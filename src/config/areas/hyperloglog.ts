import type { Directive } from '../directives.js';

/** Configuration directives owned by the hyperloglog layer (registered in config/table.ts). */
export const hyperloglogDirectives: Directive[] = [];
