import { numericDirective, type Directive } from '../directives.js';
import { LONG_MAX } from './hashes.js';

/** Configuration directives owned by the sets layer (registered in config/table.ts). */
export const setsDirectives: Directive[] = [
  numericDirective('set-max-intset-entries', 512, 0, LONG_MAX, { kind: 'int', unsigned: true }),
];
