import type { Directive } from '../directives.js';

/** Configuration directives owned by the keys layer (registered in config/table.ts). */
export const keysDirectives: Directive[] = [];
