import { numericDirective, type Directive } from '../directives.js';
import { LONG_MAX } from './hashes.js';

/**
 * Configuration directives owned by the hyperloglog layer (registered in config/table.ts):
 * `hll-sparse-max-bytes` (createSizeTConfig in src/config.c of Redis 7.0.15: memory units,
 * 0..LONG_MAX, default 3000), the length in bytes, header included, past which a sparse HLL is
 * promoted to the dense encoding.
 */
export const hyperloglogDirectives: Directive[] = [
  numericDirective('hll-sparse-max-bytes', 3000, 0, LONG_MAX, { kind: 'memory', unsigned: true }),
];
