import type { Handler } from './spec.js';

/** Handlers of the strings command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const stringsCommands: Record<string, Handler> = {};
