import type { Client } from '../server/client.js';
import type { Handler } from './spec.js';
import { ERR, getLongOrReply } from '../server/dispatch.js';
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

/**
 * FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds] (failoverCommand): Redis's
 * argument checks in its order (a lone ABORT first, then each option at most once, TIMEOUT > 0,
 * TO's port an integer), then the answer of a master that has no replica to fail over to.
 */
function failover(c: Client): void {
  const argv = c.argv;
  if (argv.length === 2 && argv[1]!.toLowerCase() === 'abort') {
    c.addError('ERR No failover in progress.');
    return;
  }
  let timeout = 0;
  let force = false;
  let host: string | null = null;
  for (let j = 1; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === 'timeout' && j + 1 < argv.length && timeout === 0) {
      const t = getLongOrReply(c, argv[j + 1]!);
      if (t === null) return;
      if (t <= 0) {
        c.addError('ERR FAILOVER timeout must be greater than 0');
        return;
      }
      timeout = t;
      j++;
    } else if (opt === 'to' && j + 2 < argv.length && host === null) {
      if (getLongOrReply(c, argv[j + 2]!) === null) return;
      host = argv[j + 1]!;
      j += 2;
    } else if (opt === 'force' && !force) {
      force = true;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  c.addError('ERR FAILOVER requires connected replicas.');
}

/**
 * REPLICAOF host port / SLAVEOF (replicaofCommand). `NO ONE` makes the server a master, which
 * Amber always is: +OK. Any other address is checked as Redis checks it (`ERR Invalid master
 * port` for a port outside 0-65535) and then refused: Amber does not replicate (DESIGN.md), and
 * saying OK to a replica that never syncs would leave the operator believing it does.
 */
function replicaof(c: Client): void {
  const host = c.argv[1]!;
  const port = c.argv[2]!;
  if (host.toLowerCase() === 'no' && port.toLowerCase() === 'one') {
    c.addOk();
    return;
  }
  const p = getLongOrReply(c, port, 'ERR Invalid master port');
  if (p === null) return;
  if (p < 0 || p > 65535) {
    c.addError('ERR Invalid master port');
    return;
  }
  c.addError(`ERR Amber does not replicate: it cannot become a replica of ${host}:${p}. REPLICAOF NO ONE is accepted (Amber is always a master).`);
}

export const replicationCommands: Record<string, Handler> = {
  wait,
  failover,
  replicaof,
  slaveof: replicaof,
};
