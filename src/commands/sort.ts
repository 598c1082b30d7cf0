import type { Handler } from './spec.js';

/** Handlers of the sort command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const sortCommands: Record<string, Handler> = {};
