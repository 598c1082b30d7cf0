import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { parseInt64 } from '../util/number.js';
import { genInfoString, registerInfoProvider } from '../server/info.js';
import { slowlogOf, slowlogReset } from '../server/slowlog.js';
import { ustime } from '../server/monitor.js';
import { addReplyHelp, addReplySubcommandSyntaxError } from './client.js';
import { pubsubCounts } from './pubsub.js';

/**
 * Server commands after Redis 7.0's src/server.c and src/slowlog.c: INFO, MONITOR, SLOWLOG,
 * SHUTDOWN, TIME. (DBSIZE, FLUSH*, persistence and CONFIG live with their families.)
 */

// The pub/sub counters of INFO stats come from the pub/sub layer's tables.
registerInfoProvider('stats', (server, s) => {
  const p = pubsubCounts(server);
  s.set('pubsub_channels', p.channels).set('pubsub_patterns', p.patterns).set('pubsubshard_channels', p.shardChannels);
});

/** INFO [section ...]: a verbatim string in RESP3, a bulk string in RESP2. */
function info(c: Client): void {
  c.addVerbatim(genInfoString(c.server, c.argv.slice(1)));
}

/** TIME: [unix seconds, microseconds] as bulk strings. */
function time(c: Client): void {
  const us = ustime();
  const sec = Math.floor(us / 1e6);
  c.addArrayLen(2);
  c.addBulk(String(sec));
  c.addBulk(String(us - sec * 1e6));
}

/**
 * ROLE (roleCommand in src/replication.c) of a master without replicas, which is all Amber runs
 * as (replication is not implemented): `master`, the replication offset (0, as INFO replication's
 * master_repl_offset) and an empty list of replicas. Monitoring tools and client libraries ask it
 * to find the master.
 */
function role(c: Client): void {
  c.addArrayLen(3);
  c.addBulk('master');
  c.addInt(0);
  c.addArrayLen(0);
}

/**
 * MONITOR (monitorCommand): from now on the client receives every command the server runs.
 * Refused inside a transaction; a second MONITOR is ignored without a reply, as in Redis.
 */
function monitor(c: Client): void {
  if (c.multi !== null) {
    c.addError("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  if (c.monitor) return;
  c.monitor = true;
  c.server.monitors.add(c);
  c.addOk();
}

// ---- SLOWLOG ---------------------------------------------------------------------------------

const SLOWLOG_HELP = [
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
];

function slowlogHelp(c: Client): void {
  addReplyHelp(c, SLOWLOG_HELP);
}

/** SLOWLOG GET [count]: newest first; count -1 means every entry. */
function slowlogGet(c: Client): void {
  if (c.argv.length > 3) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  const entries = slowlogOf(c.server).entries;
  let count = 10;
  if (c.argv.length === 3) {
    const v = parseInt64(c.argv[2]!);
    if (v === null || v < -1n) {
      c.addError('ERR count should be greater than or equal to -1');
      return;
    }
    count = v === -1n ? entries.length : v > BigInt(entries.length) ? entries.length : Number(v);
  }
  const n = Math.min(count, entries.length);
  c.addArrayLen(n);
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    c.addArrayLen(6);
    c.addInt(e.id);
    c.addInt(e.time);
    c.addInt(e.duration);
    c.addBulkArray(e.argv);
    c.addBulk(e.peerid);
    c.addBulk(e.cname);
  }
}

function slowlogLen(c: Client): void {
  c.addInt(slowlogOf(c.server).entries.length);
}

function slowlogResetCmd(c: Client): void {
  slowlogReset(c.server);
  c.addOk();
}

// ---- SHUTDOWN --------------------------------------------------------------------------------

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (shutdownCommand). The client waits while the
 * shutdown hooks save; on success the server closes and `server.onExit(0)` is called (the
 * process exits under amber-server); on failure the client gets Redis's error and the server
 * keeps running. Amber never waits for replicas, so there is never a shutdown to ABORT.
 */
function shutdown(c: Client): void {
  let nosave = false;
  let save = false;
  let now = false;
  let force = false;
  let abort = false;
  for (let i = 1; i < c.argv.length; i++) {
    const a = c.argv[i]!.toLowerCase();
    if (a === 'nosave') nosave = true;
    else if (a === 'save') save = true;
    else if (a === 'now') now = true;
    else if (a === 'force') force = true;
    else if (a === 'abort') abort = true;
    else {
      c.addError(ERR.syntax);
      return;
    }
  }
  if ((abort && (nosave || save || now || force)) || (nosave && save)) {
    c.addError(ERR.syntax);
    return;
  }
  if (abort) {
    c.addError('ERR No shutdown in progress.');
    return;
  }
  if (!now && c.multi !== null) {
    c.addError("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    return;
  }
  const server = c.server;
  // a busy script may only be cut short without saving (shutdownCommand)
  if (!nosave && server.suspension !== null) {
    c.addError(server.suspension.busyError);
    return;
  }
  c.blocked = true;
  void server.shutdown({ nosave, save, now, force, reason: 'shutdown' }).then(
    (ok) => {
      if (ok) {
        server.onExit?.(0);
        return;
      }
      refuse();
    },
    (e: unknown) => {
      server.log.warning(`Error during shutdown: ${(e as Error).message}`);
      refuse();
    },
  );
  function refuse(): void {
    c.blocked = false;
    if (c.closed) return;
    const msg = 'ERR Errors trying to SHUTDOWN. Check logs.';
    c.addError(msg);
    server.countError(msg);
    server.processInput(c);
  }
}

export const serverCommands: Record<string, Handler> = {
  info,
  time,
  role,
  monitor,
  shutdown,
  'slowlog|help': slowlogHelp,
  'slowlog|get': slowlogGet,
  'slowlog|len': slowlogLen,
  'slowlog|reset': slowlogResetCmd,
};
