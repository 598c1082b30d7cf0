import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { aofOf } from '../persistence/aof/aof.js';

/** BGREWRITEAOF: starts (or schedules, while a snapshot runs) a fork-less AOF rewrite. */
function bgrewriteaof(c: Client): void {
  const aof = aofOf(c.server);
  // bgrewriteaofCommand: inside EXEC (server.in_exec) the rewrite is scheduled, never started
  if ((c.multi as { inExec?: boolean } | null)?.inExec === true && !aof.rewriteInProgress) {
    aof.rewriteScheduled = true;
    c.addSimple('Background append only file rewriting scheduled');
    return;
  }
  const r = aof.requestRewrite();
  if (r.ok) c.addSimple(r.msg);
  else c.addError(r.msg);
}

/** Handlers of the AOF commands. */
export const aofCommands: Record<string, Handler> = {
  bgrewriteaof,
};
