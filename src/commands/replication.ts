import type { Client } from '../server/client.js';
import type { Handler } from './spec.js';
import { getLongOrReply } from '../server/dispatch.js';
import { blockForKeys, isInMulti, parseTimeout } from '../server/blocking.js';

/**
 * The replication commands a server without replicas still answers, after Redis 7.0's
 * src/replication.c. Amber does not replicate (a non-goal): it is a master with no replica,
 * so no write is ever acknowledged by one.
 */

/**
 * WAIT numreplicas timeout (waitCommand): the number of replicas that acknowledged this client's
 * writes, always 0 here. As Redis does, it answers at once when that already satisfies
 * `numreplicas` (0 or less) or when the client may not block (inside MULTI/EXEC), else blocks
 * until `timeout` ms pass (0: for ever) and then answers 0; CLIENT UNBLOCK ends the wait early
 * (0, or the -UNBLOCKED error). Errors: `ERR value is not an integer or out of range` (numreplicas),
 * `ERR timeout is not an integer or out of range`, `ERR timeout is negative`.
 */
function wait(c: Client): void {
  const numreplicas = getLongOrReply(c, c.argv[1]!);
  if (numreplicas === null) return;
  const deadline = parseTimeout(c, c.argv[2]!, 'milliseconds');
  if (deadline === null) return;
  const acked = 0;
  if (acked >= numreplicas || isInMulti(c)) {
    c.addInt(acked);
    return;
  }
  blockForKeys(c, {
    type: 'wait',
    keys: [],
    deadline,
    serve: () => false,
    onTimeout: (b) => b.addInt(acked),
  });
}

export const replicationCommands: Record<string, Handler> = {
  wait,
};
