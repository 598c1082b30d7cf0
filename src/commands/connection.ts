import type { Client } from '../server/client.js';
import type { Handler } from './spec.js';
import { ERR } from '../server/dispatch.js';
import { REDIS_VERSION } from '../server/server.js';
import { parseInt64 } from '../util/number.js';
import { redactClientCommandArgument } from '../server/monitor.js';
import { resetTransactionState } from './transactions.js';
import { resetPubSubState } from './pubsub.js';
import { disableTracking } from '../server/tracking.js';

/**
 * Connection commands after Redis 7.0's src/server.c, src/networking.c and src/acl.c: PING, ECHO,
 * QUIT, SELECT, RESET, AUTH, HELLO. Users and their passwords are the ACL's (server/acl).
 */

/** PING [message]: +PONG, or the message as a bulk; in a RESP2 subscribed context ["pong", msg]. */
function ping(c: Client): void {
  if (c.argv.length > 2) {
    c.addError("ERR wrong number of arguments for 'ping' command");
    return;
  }
  if (c.resp === 2 && c.pubsub !== null && (c.pubsub as { total?: () => number }).total?.() !== 0) {
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

const INT_MIN = -2147483648n;
const INT_MAX = 2147483647n;

/** SELECT index (getIntFromObjectOrReply, then selectDb). */
function select(c: Client): void {
  const v = parseInt64(c.argv[1]!);
  if (v === null) {
    c.addError(ERR.notInteger);
    return;
  }
  if (v < INT_MIN || v > INT_MAX) {
    c.addError('ERR value is out of range, value must between -2147483648 and 2147483647');
    return;
  }
  const db = v >= 0n ? c.server.keyspace.dbs[Number(v)] : undefined;
  if (db === undefined) {
    c.addError('ERR DB index is out of range');
    return;
  }
  c.db = db;
  c.addOk();
}

/** AUTH [username] password (authCommand in acl.c). */
function auth(c: Client): void {
  if (c.argv.length > 3) {
    c.addError(ERR.syntax);
    return;
  }
  redactClientCommandArgument(c, 1);
  let username: string;
  let password: string;
  if (c.argv.length === 2) {
    if (c.server.acl.defaultUser.nopass) {
      c.addError('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
      return;
    }
    username = 'default';
    password = c.argv[1]!;
  } else {
    username = c.argv[1]!;
    password = c.argv[2]!;
    redactClientCommandArgument(c, 2);
  }
  if (c.server.acl.authenticate(c, username, password)) c.addOk();
  else c.addError('WRONGPASS invalid username-password pair or user is disabled.');
}

/**
 * Sets the connection name as clientSetNameOrReply: '' removes it; bytes outside '!'..'~' are
 * refused with Redis's error. Returns false after replying with the error.
 */
export function setClientNameOrReply(c: Client, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 0x21 || ch > 0x7e) {
      c.addError('ERR Client names cannot contain spaces, newlines or special characters.');
      return false;
    }
  }
  c.name = name;
  return true;
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]] (helloCommand). */
function hello(c: Client): void {
  let ver = 0;
  let next = 1;
  if (c.argv.length >= 2) {
    const v = parseInt64(c.argv[next++]!);
    if (v === null) {
      c.addError('ERR Protocol version is not an integer or out of range');
      return;
    }
    if (v < 2n || v > 3n) {
      c.addError('NOPROTO unsupported protocol version');
      return;
    }
    ver = Number(v);
  }
  for (let j = next; j < c.argv.length; j++) {
    const more = c.argv.length - 1 - j;
    const opt = c.argv[j]!;
    const lower = opt.toLowerCase();
    if (lower === 'auth' && more >= 2) {
      redactClientCommandArgument(c, j + 1);
      redactClientCommandArgument(c, j + 2);
      if (!c.server.acl.authenticate(c, c.argv[j + 1]!, c.argv[j + 2]!)) {
        c.addError('WRONGPASS invalid username-password pair or user is disabled.');
        return;
      }
      j += 2;
    } else if (lower === 'setname' && more >= 1) {
      if (!setClientNameOrReply(c, c.argv[j + 1]!)) return;
      j++;
    } else {
      c.addError(`ERR Syntax error in HELLO option '${opt}'`);
      return;
    }
  }
  if (!c.authenticated) {
    c.addError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
    return;
  }
  if (ver) c.resp = ver as 2 | 3;
  c.addMapLen(7);
  c.addBulk('server');
  c.addBulk('redis');
  c.addBulk('version');
  c.addBulk(REDIS_VERSION);
  c.addBulk('proto');
  c.addInt(c.resp);
  c.addBulk('id');
  c.addInt(c.id);
  c.addBulk('mode');
  c.addBulk('standalone');
  c.addBulk('role');
  c.addBulk('master');
  c.addBulk('modules');
  c.addArrayLen(0);
}

/**
 * RESET (resetCommand + clearClientConnectionState): leaves MONITOR, tracking, MULTI/WATCH and
 * every subscription, selects db 0, goes back to RESP2 and the default user (unauthenticated
 * when it has a password), drops the name and CLIENT REPLY OFF|SKIP. Replies +RESET.
 */
function reset(c: Client): void {
  const server = c.server;
  if (c.monitor) {
    server.monitors.delete(c);
    c.monitor = false;
  }
  disableTracking(c);
  c.db = server.keyspace.dbs[0]!;
  c.resp = 2;
  c.user = server.acl.defaultUser;
  c.authenticated = server.acl.defaultUserAuthenticates();
  resetTransactionState(c);
  resetPubSubState(c);
  c.name = '';
  c.replyMode = 'on';
  c.addSimple('RESET');
}

export const connectionCommands: Record<string, Handler> = {
  ping,
  echo,
  quit,
  select,
  auth,
  hello,
  reset,
};
