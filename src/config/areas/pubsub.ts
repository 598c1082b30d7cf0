import type { Directive } from '../directives.js';

/** Configuration directives owned by the pubsub layer (registered in config/table.ts). */
export const pubsubDirectives: Directive[] = [];
