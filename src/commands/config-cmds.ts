import type { Handler } from './spec.js';

/** Handlers of the config-cmds command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const configCmdsCommands: Record<string, Handler> = {};
