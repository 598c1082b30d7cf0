import type { Directive } from '../directives.js';

/** Configuration directives owned by the lists layer (registered in config/table.ts). */
export const listsDirectives: Directive[] = [];
