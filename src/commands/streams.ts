import type { Handler } from './spec.js';

/** Handlers of the streams command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const streamsCommands: Record<string, Handler> = {};
