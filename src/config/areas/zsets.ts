import { numericDirective, type Directive } from '../directives.js';

/** LONG_MAX, the upper bound of Redis's size_t encoding limits. */
const LONG_MAX = 9223372036854775807n;

/**
 * Configuration directives owned by the zsets layer (registered in config/table.ts): the
 * listpack limits of Redis 7.0 (createSizeTConfig in src/config.c), with their pre-7.0 ziplist
 * names as aliases. Read per command (commands/zsets.ts zsetLimits): a change applies to the
 * next insertion, existing zsets keep their encoding, as in Redis.
 */
export const zsetsDirectives: Directive[] = [
  numericDirective('zset-max-listpack-entries', 128, 0, LONG_MAX, { kind: 'int', unsigned: true }, { aliases: ['zset-max-ziplist-entries'] }),
  numericDirective('zset-max-listpack-value', 64, 0, LONG_MAX, { kind: 'memory', unsigned: true }, { aliases: ['zset-max-ziplist-value'] }),
];
