import { numericDirective, type Directive } from '../directives.js';

/** LONG_MAX, the upper bound of Redis's size_t encoding limits. */
export const LONG_MAX = 9223372036854775807n;

/**
 * Configuration directives owned by the hashes layer (registered in config/table.ts): the
 * listpack limits of Redis 7.0 (createSizeTConfig in src/config.c), with their pre-7.0 ziplist
 * names as aliases.
 */
export const hashesDirectives: Directive[] = [
  numericDirective('hash-max-listpack-entries', 512, 0, LONG_MAX, { kind: 'int', unsigned: true }, { aliases: ['hash-max-ziplist-entries'] }),
  numericDirective('hash-max-listpack-value', 64, 0, LONG_MAX, { kind: 'memory', unsigned: true }, { aliases: ['hash-max-ziplist-value'] }),
];
