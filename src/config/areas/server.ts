import type { Directive } from '../directives.js';

/** Configuration directives owned by the server layer (registered in config/table.ts). */
export const serverDirectives: Directive[] = [];
