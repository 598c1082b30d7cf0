import type { Directive } from '../directives.js';

/** Configuration directives owned by the zsets layer (registered in config/table.ts). */
export const zsetsDirectives: Directive[] = [];
