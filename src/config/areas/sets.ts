import type { Directive } from '../directives.js';

/** Configuration directives owned by the sets layer (registered in config/table.ts). */
export const setsDirectives: Directive[] = [];
