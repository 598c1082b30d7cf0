import type { Handler } from './spec.js';

/** Handlers of the lists command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const listsCommands: Record<string, Handler> = {};
