import type { Handler } from './spec.js';

/** Handlers of the keys command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const keysCommands: Record<string, Handler> = {};
