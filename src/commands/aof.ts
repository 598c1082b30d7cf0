import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { aofOf } from '../persistence/aof/aof.js';

/** BGREWRITEAOF: starts (or schedules, while a snapshot runs) a fork-less AOF rewrite. */
function bgrewriteaof(c: Client): void {
  const r = aofOf(c.server).requestRewrite();
  if (r.ok) c.addSimple(r.msg);
  else c.addError(r.msg);
}

/** Handlers of the AOF commands. */
export const aofCommands: Record<string, Handler> = {
  bgrewriteaof,
};
