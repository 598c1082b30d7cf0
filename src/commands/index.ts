import type { Handler } from './spec.js';
import { connectionCommands } from './connection.js';

/** Every command family's handlers, merged into one table by the server. */
export function allHandlers(): Record<string, Handler> {
  return {
    ...connectionCommands,
  };
}
