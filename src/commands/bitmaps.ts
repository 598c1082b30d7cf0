import type { Handler } from './spec.js';

/** Handlers of the bitmaps command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const bitmapsCommands: Record<string, Handler> = {};
