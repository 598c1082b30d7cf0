import type { Directive } from '../directives.js';

/** Configuration directives owned by the leveldb layer (registered in config/table.ts). */
export const leveldbDirectives: Directive[] = [];
