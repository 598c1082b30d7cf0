import type { Handler } from './spec.js';

/** Handlers of the zsets command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const zsetsCommands: Record<string, Handler> = {};
