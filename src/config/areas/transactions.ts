import type { Directive } from '../directives.js';

/** Configuration directives owned by the transactions layer (registered in config/table.ts). */
export const transactionsDirectives: Directive[] = [];
