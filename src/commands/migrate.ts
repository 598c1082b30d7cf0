import type { Handler } from './spec.js';
import { ERR } from '../server/dispatch.js';
import { redactClientCommandArgument } from '../server/monitor.js';
import { parseInt64 } from '../util/number.js';
import { NOTIFY_GENERIC } from '../keyspace/notify.js';
import { respCommand } from '../persistence/aof/writer.js';
import { dumpPayload } from '../persistence/rdb/encoder.js';
import { saveOptions } from '../persistence/rdb/load.js';
import { dbDelete } from './keys.js';
import type { Value } from '../keyspace/types/object.js';

/** The longest timer Node runs as asked (a longer one fires at once), ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
 * [AUTH2 username password] [KEYS key [key ...]] (migrateCommand in Redis 7.0's src/cluster.c).
 *
 * Sends the keys to the target as RESTORE commands (TTL relative, DUMP payloads), over a cached
 * connection (server/migrate-sockets.ts), blocking the server until the target answered, as
 * Redis does. Each key the target acknowledged is deleted here unless COPY; the command then
 * propagates as `DEL` of those keys. Replies: +OK; +NOKEY when none of the keys exists; the
 * first error the target replied, as `ERR Target instance replied with error: <error>`; IOERR
 * when the target could not be reached, written to or read from.
 */
const migrate: Handler = (c) => {
  const argv = c.argv;
  let copy = false;
  let replace = false;
  let username: string | null = null;
  let password: string | null = null;
  let firstKey = 3;
  let numKeys = 1;
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const moreargs = argv.length - 1 - j;
    if (opt === 'copy') copy = true;
    else if (opt === 'replace') replace = true;
    else if (opt === 'auth') {
      if (moreargs === 0) return c.addError(ERR.syntax);
      password = argv[++j]!;
      redactClientCommandArgument(c, j);
    } else if (opt === 'auth2') {
      if (moreargs < 2) return c.addError(ERR.syntax);
      username = argv[++j]!;
      redactClientCommandArgument(c, j);
      password = argv[++j]!;
      redactClientCommandArgument(c, j);
    } else if (opt === 'keys') {
      if (argv[3]!.length !== 0) {
        return c.addError('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      }
      firstKey = j + 1;
      numKeys = argv.length - j - 1;
      break; // the remaining arguments are keys
    } else {
      return c.addError(ERR.syntax);
    }
  }
  const timeoutArg = parseInt64(argv[5]!);
  const dbid = parseInt64(argv[4]!);
  if (timeoutArg === null || dbid === null) return c.addError(ERR.notInteger);
  const timeoutMs = timeoutArg <= 0n ? 1000 : Number(timeoutArg > BigInt(MAX_TIMEOUT_MS) ? MAX_TIMEOUT_MS : timeoutArg);

  // at least one key must exist; none is no error (they may just have expired): NOKEY
  const db = c.db;
  const keys: string[] = [];
  const values: Value[] = [];
  for (let j = 0; j < numKeys; j++) {
    const key = argv[firstKey + j]!;
    const v = db.lookupRead(key);
    if (v !== undefined) {
      keys.push(key);
      values.push(v);
    }
  }
  if (keys.length === 0) return c.addSimple('NOKEY');

  // RESTORE per key still alive (serializing a big value takes time: a TTL may pass meanwhile)
  const opts = saveOptions(c.server);
  const sent: string[] = [];
  let body = '';
  for (let j = 0; j < keys.length; j++) {
    const key = keys[j]!;
    let ttl = 0;
    const expireAt = db.getExpire(key);
    if (expireAt !== -1) {
      ttl = expireAt - Date.now();
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    sent.push(key);
    const restore = ['RESTORE', key, String(ttl), dumpPayload(values[j]!, opts).latin1Slice()];
    if (replace) restore.push('REPLACE');
    body += respCommand(restore);
  }
  const host = argv[1]!;
  const port = argv[2]!;
  const outcome = c.server.migrateSockets.transfer({
    host,
    port,
    timeoutMs,
    dbid: String(dbid),
    auth: password === null ? null : Buffer.from(respCommand(username === null ? ['AUTH', password] : ['AUTH', username, password]), 'latin1'),
    select: Buffer.from(respCommand(['SELECT', String(dbid)]), 'latin1'),
    body: Buffer.from(body, 'latin1'),
    restores: sent.length,
  });
  if (outcome.failure === 'connect') return c.addError('IOERR error or timeout connecting to the client');
  if (outcome.failure === 'write') return c.addError('IOERR error or timeout writing to target instance');

  const authError = password !== null && outcome.authLine[0] === '-';
  const selectError = outcome.selected && outcome.selectLine[0] === '-';
  let errorFromTarget = false;
  const deleted: string[] = [];
  for (let j = 0; j < outcome.replies.length; j++) {
    const line = outcome.replies[j]!;
    if (authError || selectError || line[0] === '-') {
      if (!errorFromTarget) {
        errorFromTarget = true;
        const from = authError ? outcome.authLine : selectError ? outcome.selectLine : line;
        c.addError(`ERR Target instance replied with error: ${from.slice(1)}`);
      }
    } else if (!copy) {
      // acknowledged: the key now lives on the target
      const key = sent[j]!;
      dbDelete(db, key);
      c.server.keyspace.notify(NOTIFY_GENERIC, 'del', key, db.id);
      deleted.push(key);
    }
  }
  if (deleted.length > 0) c.server.effects.rewrite(['DEL', ...deleted]);
  if (errorFromTarget) return;
  if (outcome.failure === 'read') return c.addError('IOERR error or timeout reading to target instance');
  c.addOk();
};

/** Handlers of MIGRATE, by lower-case Redis command name. */
export const migrateCommands: Record<string, Handler> = {
  migrate,
};
