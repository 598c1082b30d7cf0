import type { Client } from '../server/client.js';
import type { Handler } from './spec.js';
import { ERR } from '../server/dispatch.js';
import { parseLong } from '../util/number.js';

/** PING [message]: +PONG, or the message as a bulk; in RESP2 pub/sub context, ["pong", msg]. */
function ping(c: Client): void {
  if (c.argv.length > 2) {
    c.addError("ERR wrong number of arguments for 'ping' command");
    return;
  }
  if (c.pubsub !== null && c.resp === 2 && (c.pubsub as { count?: () => number }).count?.() !== 0) {
    c.addArrayLen(2);
    c.addBulk('pong');
    c.addBulk(c.argv.length === 2 ? c.argv[1]! : '');
    return;
  }
  if (c.argv.length === 1) c.addRaw('+PONG\r\n');
  else c.addBulk(c.argv[1]!);
}

function echo(c: Client): void {
  c.addBulk(c.argv[1]!);
}

/** QUIT: +OK, then the connection closes once the reply is written. */
function quit(c: Client): void {
  c.addOk();
  c.closeAfterReply = true;
}

/** SELECT index */
function select(c: Client): void {
  const id = parseLong(c.argv[1]!);
  if (id === null) {
    c.addError('ERR value is not an integer or out of range');
    return;
  }
  const db = c.server.keyspace.dbs[id];
  if (id < 0 || db === undefined) {
    c.addError('ERR DB index is out of range');
    return;
  }
  c.db = db;
  c.addOk();
}

void ERR;

export const connectionCommands: Record<string, Handler> = {
  ping,
  echo,
  quit,
  select,
};
