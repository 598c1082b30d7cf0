import { intDirective, type Directive } from '../directives.js';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/**
 * Configuration directives owned by the lists layer (registered in config/table.ts), as Redis
 * 7.0.15's standardConfig table (src/config.c) declares them:
 * - `list-max-listpack-size` (alias `list-max-ziplist-size`), default -2: quicklist node size,
 *   negative = a byte level (-1..-5 = 4, 8, 16, 32, 64 KB), positive = entries per node. Amber
 *   stores lists its own way; the value shapes the node boundaries reported to DEBUG OBJECT and
 *   written to RDB files (QuicklistLayout): as in Redis, a list keeps the value of its creation
 *   (by LPUSH/RPUSH/LMOVE or a load; SORT STORE uses quicklist's default -2).
 * - `list-compress-depth`, default 0: accepted and reported; Amber does not LZF-compress nodes.
 */
export const listsDirectives: Directive[] = [
  intDirective('list-max-listpack-size', -2, INT_MIN, INT_MAX, true, { aliases: ['list-max-ziplist-size'] }),
  intDirective('list-compress-depth', 0, 0, INT_MAX, true),
];
