import type { Handler } from './spec.js';

/** Handlers of the hyperloglog command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const hyperloglogCommands: Record<string, Handler> = {};
