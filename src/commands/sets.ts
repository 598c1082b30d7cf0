import type { Handler } from './spec.js';

/** Handlers of the sets command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const setsCommands: Record<string, Handler> = {};
