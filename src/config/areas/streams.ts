import { numericDirective, type Directive } from '../directives.js';

/** LONG_MAX and LLONG_MAX, the upper bounds Redis gives these directives. */
const LONG_MAX = 9223372036854775807n;

/**
 * Configuration directives owned by the streams layer (registered in config/table.ts), as Redis
 * 7.0.15's standardConfig table (src/config.c) declares them. Read per command by
 * commands/streams.ts: a change applies to the next XADD, existing nodes keep their shape.
 * - `stream-node-max-bytes`, default 4096 (memory units accepted): a node (listpack) whose bytes
 *   plus the new entry's field and value bytes reach this starts a new node; 0 means no limit
 *   (still capped at 1 GB).
 * - `stream-node-max-entries`, default 100: a node holding this many entries, deleted ones
 *   included, starts a new node; 0 means no limit. Approximate trimming (`~`) removes whole
 *   nodes only, and its default LIMIT is 100 times this value (capped at 10000..1000000).
 */
export const streamsDirectives: Directive[] = [
  numericDirective('stream-node-max-bytes', 4096, 0, LONG_MAX, { kind: 'memory', unsigned: true }),
  numericDirective('stream-node-max-entries', 100, 0, LONG_MAX, { kind: 'int' }),
];
