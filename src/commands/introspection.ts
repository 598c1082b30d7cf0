import type { Handler } from './spec.js';

/** Handlers of the introspection command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const introspectionCommands: Record<string, Handler> = {};
