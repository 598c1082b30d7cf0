import type { Directive } from '../directives.js';

/** Configuration directives owned by the aof layer (registered in config/table.ts). */
export const aofDirectives: Directive[] = [];
