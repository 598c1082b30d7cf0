import type { Handler } from './spec.js';

/** Handlers of the server command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const serverCommands: Record<string, Handler> = {};
