import type { Handler } from './spec.js';

/** Handlers of the persistence command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const persistenceCommands: Record<string, Handler> = {};
