import type { Directive } from '../directives.js';

/** Configuration directives owned by the rdb layer (registered in config/table.ts). */
export const rdbDirectives: Directive[] = [];
