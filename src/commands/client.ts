import type { Handler } from './spec.js';

/** Handlers of the client command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const clientCommands: Record<string, Handler> = {};
