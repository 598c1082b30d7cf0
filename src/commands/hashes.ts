import type { Handler } from './spec.js';

/** Handlers of the hashes command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const hashesCommands: Record<string, Handler> = {};
