import type { Handler } from './spec.js';

/** Handlers of the expire command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const expireCommands: Record<string, Handler> = {};
