import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { bgsaverOf } from '../persistence/bgsave.js';

/** BGSAVE [SCHEDULE] (bgsaveCommand in src/rdb.c), served by the fork-less background saver. */
function bgsave(c: Client): void {
  let schedule = false;
  if (c.argv.length > 1) {
    if (c.argv.length === 2 && c.argv[1]!.toLowerCase() === 'schedule') schedule = true;
    else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const saver = bgsaverOf(c.server);
  // bgsaveCommand: inside EXEC (server.in_exec) a save is scheduled for the cron, never started
  if ((c.multi as { inExec?: boolean } | null)?.inExec === true && !saver.inProgress) {
    saver.scheduled = true;
    c.addSimple('Background saving scheduled');
    return;
  }
  const r = saver.request(schedule);
  if (r.ok) c.addSimple(r.msg);
  else c.addError(r.msg);
}

/** Handlers of the background-save commands. */
export const bgsaveCommands: Record<string, Handler> = {
  bgsave,
};
