import type { Handler } from './spec.js';

/** Handlers of the geo command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const geoCommands: Record<string, Handler> = {};
