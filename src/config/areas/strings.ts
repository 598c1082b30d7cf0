import type { Directive } from '../directives.js';

/** Configuration directives owned by the strings layer (registered in config/table.ts). */
export const stringsDirectives: Directive[] = [];
