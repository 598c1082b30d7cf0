import type { Handler } from './spec.js';

/** Handlers of the transactions command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const transactionsCommands: Record<string, Handler> = {};
