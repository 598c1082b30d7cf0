import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { addReplyHelp, addReplySubcommandSyntaxError } from './client.js';
import { stringMatch } from '../util/glob.js';
import { numkeysArg, killBusyScript } from './scripting.js';
import { feedMonitors, loggedArgv } from '../server/monitor.js';
import { LOAD_TIMEOUT_MS, LUA_ENGINE_NAME, readFunctionPayload, type RestorePolicy, type FunctionInfo } from '../scripting/function-registry.js';
import { FLAG_NAMES } from '../scripting/script-lua.js';
import { verifyDumpPayload } from './persistence.js';
import { rdbState, saveOptions } from '../persistence/rdb/load.js';

/**
 * FUNCTION (LOAD, DELETE, FLUSH, LIST, STATS, DUMP, RESTORE, KILL, HELP), FCALL and FCALL_RO
 * (Redis 7.0.15's src/functions.c) on the registry of src/scripting/function-registry.ts. The
 * commands that compile or run Lua (LOAD, RESTORE, FCALL, FCALL_RO) wait for the Lua engines as
 * EVAL does (commands/scripting.ts holds their client while the VM loads).
 */

const HELP = [
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Library description',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
];

/** The reply of an error text from the registry: it has no code, so ERR (addReplyErrorSds). */
function addRegistryError(c: Client, error: string): void {
  c.addError(`ERR ${error}`);
}

/** FUNCTION LOAD [REPLACE] code */
const functionLoad: Handler = (c) => {
  const argv = c.argv;
  let replace = false;
  let pos = 2;
  while (pos < argv.length - 1) {
    const opt = argv[pos++]!;
    if (opt.toLowerCase() === 'replace') {
      replace = true;
      continue;
    }
    c.addError(`ERR Unknown option given: ${opt}`);
    return;
  }
  if (pos >= argv.length) {
    c.addError('ERR Function code is missing');
    return;
  }
  const server = c.server;
  // the AOF's commands must load whatever their code does (mustObeyClient: no timeout)
  const timeout = server.keyspace.loading ? 0 : LOAD_TIMEOUT_MS;
  const r = server.functions.load(argv[pos]!, replace, timeout);
  if ('error' in r) {
    addRegistryError(c, r.error);
    return;
  }
  server.keyspace.dirty++;
  c.addBulk(r.name);
};

/** FUNCTION DELETE library */
const functionDelete: Handler = (c) => {
  if (!c.server.functions.delete(c.argv[2]!)) {
    c.addError('ERR Library not found');
    return;
  }
  c.server.keyspace.dirty++;
  c.addOk();
};

/** FUNCTION FLUSH [ASYNC|SYNC]: both free at once (a library set is small). */
const functionFlush: Handler = (c) => {
  const argv = c.argv;
  if (argv.length > 3) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  if (argv.length === 3) {
    const mode = argv[2]!.toLowerCase();
    if (mode !== 'sync' && mode !== 'async') {
      c.addError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
      return;
    }
  }
  c.server.functions.flush();
  c.server.keyspace.dirty++;
  c.addOk();
};

/** A function's flags as a set of status replies (functionListReplyFlags). */
function addFlags(c: Client, fi: FunctionInfo): void {
  const names = FLAG_NAMES.filter(([, bit]) => (fi.flags & bit) !== 0);
  c.addSetLen(names.length);
  for (const [name] of names) c.addSimple(name);
}

/** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] */
const functionList: Handler = (c) => {
  const argv = c.argv;
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    const lower = arg.toLowerCase();
    if (!withCode && lower === 'withcode') {
      withCode = true;
      continue;
    }
    if (pattern === null && lower === 'libraryname') {
      if (i >= argv.length - 1) {
        c.addError('ERR library name argument was not given');
        return;
      }
      pattern = argv[++i]!;
      continue;
    }
    c.addError(`ERR Unknown argument ${arg}`);
    return;
  }
  const libs = [...c.server.functions.libraries.values()].filter((li) => pattern === null || stringMatch(pattern, li.name, true));
  c.addArrayLen(libs.length);
  for (const li of libs) {
    c.addMapLen(withCode ? 4 : 3);
    c.addBulk('library_name');
    c.addBulk(li.name);
    c.addBulk('engine');
    c.addBulk(li.engine);
    c.addBulk('functions');
    c.addArrayLen(li.functions.size);
    for (const fi of li.functions.values()) {
      c.addMapLen(3);
      c.addBulk('name');
      c.addBulk(fi.name);
      c.addBulk('description');
      if (fi.desc === null) c.addNull();
      else c.addBulk(fi.desc);
      c.addBulk('flags');
      addFlags(c, fi);
    }
    if (withCode) {
      c.addBulk('library_code');
      c.addBulk(li.code);
    }
  }
};

/**
 * FUNCTION STATS (functionStatsCommand): the function keeping the server busy, if any (BUSY while
 * an EVAL script does), and the engine's counts.
 */
const functionStats: Handler = (c) => {
  const reg = c.server.functions;
  const busy = c.server.suspension;
  if (busy !== null && busy.script.isEval) {
    c.addError(busy.busyError);
    return;
  }
  c.addMapLen(2);
  c.addBulk('running_script');
  if (busy === null) c.addNull();
  else {
    const run = busy.script;
    c.addMapLen(3);
    c.addBulk('name');
    c.addBulk(run.name);
    c.addBulk('command');
    c.addArrayLen(run.argv.length);
    for (const a of run.argv) c.addBulk(a);
    c.addBulk('duration_ms');
    c.addInt(Math.floor(performance.now() - run.startedAt));
  }
  c.addBulk('engines');
  c.addMapLen(1);
  c.addBulk(LUA_ENGINE_NAME);
  c.addMapLen(2);
  c.addBulk('libraries_count');
  c.addInt(reg.libraries.size);
  c.addBulk('functions_count');
  c.addInt(reg.functionCount);
};

/** FUNCTION DUMP */
const functionDump: Handler = (c) => {
  c.addBulk(c.server.functions.dumpPayload(saveOptions(c.server)).latin1Slice());
};

/** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] */
const functionRestore: Handler = (c) => {
  const argv = c.argv;
  if (argv.length > 4) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  let policy: RestorePolicy = 'append';
  if (argv.length === 4) {
    const p = argv[3]!.toLowerCase();
    if (p !== 'append' && p !== 'replace' && p !== 'flush') {
      c.addError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
      return;
    }
    policy = p;
  }
  const payload = Buffer.from(argv[2]!, 'latin1');
  const server = c.server;
  if (!verifyDumpPayload(payload, rdbState(server).skipChecksumValidation)) {
    c.addError('ERR DUMP payload version or checksum are wrong');
    return;
  }
  const read = readFunctionPayload(payload);
  if ('error' in read) {
    addRegistryError(c, read.error);
    return;
  }
  const failed = server.functions.install(read.codes, policy);
  if (failed !== null) {
    addRegistryError(c, failed.error);
    return;
  }
  server.keyspace.dirty++;
  c.addOk();
};

/**
 * fcallCommandGeneric: shown to MONITOR first, the function, its flags' refusals (OOM, MISCONF:
 * fcallGetCommandFlags), numkeys, then the run.
 */
function fcallGeneric(c: Client, ro: boolean): void {
  const server = c.server;
  const argv = c.argv;
  const fi = server.functions.lookup(argv[1]!);
  // a function exists only once the engine compiled its library
  const engine = server.functions.engine!;
  if (fi !== undefined && engine.refusedByFlags(c, fi.flags)) return;
  if (server.monitors.size !== 0) feedMonitors(server, c.addr, c.db.id, loggedArgv(c));
  if (fi === undefined) {
    c.addError('ERR Function not found');
    return;
  }
  const numkeys = numkeysArg(c, 'ERR Bad number of keys provided');
  if (numkeys === null) return;
  engine.call(c, fi, argv.slice(3, 3 + numkeys), argv.slice(3 + numkeys), ro);
}

/** Handlers of the function commands, by lower-case Redis command name ('x|sub'). */
export const functionCommands: Record<string, Handler> = {
  'function|load': functionLoad,
  'function|delete': functionDelete,
  'function|flush': functionFlush,
  'function|list': functionList,
  'function|stats': functionStats,
  'function|dump': functionDump,
  'function|restore': functionRestore,
  'function|kill': (c) => killBusyScript(c, false),
  'function|help': (c) => addReplyHelp(c, HELP),
  fcall: (c) => fcallGeneric(c, false),
  fcall_ro: (c) => fcallGeneric(c, true),
};

