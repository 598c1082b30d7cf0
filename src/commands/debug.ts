import type { Handler } from './spec.js';

/** Handlers of the debug command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const debugCommands: Record<string, Handler> = {};
