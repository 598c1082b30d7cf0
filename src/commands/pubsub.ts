import type { Handler } from './spec.js';

/** Handlers of the pubsub command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const pubsubCommands: Record<string, Handler> = {};
