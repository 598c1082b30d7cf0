import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { protectCommand } from './config-cmds.js';
import { parseInt64, formatFixed } from '../util/number.js';
import { setActiveExpire } from '../keyspace/expire.js';
import { addReplyHelp, addReplySubcommandSyntaxError } from './client.js';
import type { Value } from '../keyspace/types/object.js';
import { datasetDigest, valueDigest } from '../keyspace/digest.js';
import { encodingOf, refcountOf } from './keys.js';
import { estimateIdleMs } from '../keyspace/lru.js';
import { ListObject } from '../keyspace/types/list.js';

/**
 * DEBUG after Redis 7.0's src/debug.c, for what makes sense in Amber: HELP, SLEEP, SET-ACTIVE-EXPIRE,
 * OBJECT, POPULATE, PROTOCOL, ERROR, LOG, CHANGE-REPL-ID, DIGEST and DIGEST-VALUE (Redis's own
 * digest, keyspace/digest.ts). Other layers add theirs (RELOAD, LOADAOF...) with
 * {@link registerDebugSubcommand}. The crash helpers (SEGFAULT, PANIC, ASSERT, OOM...) and the
 * allocator/encoding internals answer that Amber does not support them.
 *
 * DEBUG runs only when `enable-debug-command` is yes, or `local` and the client is on loopback;
 * otherwise it is refused before it runs, with Redis's error.
 */

/** A DEBUG subcommand handler; argv[1] is the subcommand as sent. */
export type DebugHandler = (c: Client) => void;

const extra = new Map<string, DebugHandler>();

/**
 * Adds or replaces a DEBUG subcommand (lower-case name), e.g. the persistence layer's `reload`.
 * The handler checks its own argument count (Redis answers a wrong count with
 * {@link addReplySubcommandSyntaxError}).
 */
export function registerDebugSubcommand(name: string, fn: DebugHandler): void {
  extra.set(name.toLowerCase(), fn);
}

/**
 * RDB serialized length of a value for DEBUG OBJECT; the RDB layer may install an exact one.
 * The default is exact for strings without LZF compression and a rough estimate otherwise.
 */
export let serializedLength: (v: Value, c: Client) => number = defaultSerializedLength;

/**
 * Installs the RDB layer's exact serialized length for DEBUG OBJECT (as the client's server
 * would save the value: rdbcompression, list and stream node sizes of its configuration).
 */
export function setSerializedLength(fn: (v: Value, c: Client) => number): void {
  serializedLength = fn;
}

function rdbLenSize(n: number): number {
  return n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : n <= 0xffffffff ? 5 : 9;
}

function defaultSerializedLength(v: Value): number {
  if (typeof v !== 'string') return 1;
  // rdbSaveStringObject: canonical integers of up to 11 chars that fit 32 bits are int-encoded
  if (v.length <= 11 && /^(0|-?[1-9]\d*)$/.test(v)) {
    const n = Number(v);
    if (n >= -128 && n <= 127) return 2;
    if (n >= -32768 && n <= 32767) return 3;
    if (n >= -2147483648 && n <= 2147483647) return 5;
  }
  return rdbLenSize(v.length) + v.length;
}

// ---- protection ------------------------------------------------------------------------------

// processCommand refuses DEBUG (CMD_PROTECTED) unless enable-debug-command allows it
protectCommand(debug, 'DEBUG', 'enable-debug-command');

// ---- subcommands -----------------------------------------------------------------------------

const HELP = [
  'AOF-FLUSH-SLEEP <microsec>',
  '    Server will sleep before flushing the AOF, this is used for testing.',
  'ASSERT',
  '    Crash by assertion failed.',
  'CHANGE-REPL-ID',
  '    Change the replication IDs of the instance.',
  '    Dangerous: should be used only for testing the replication subsystem.',
  'CONFIG-REWRITE-FORCE-ALL',
  '    Like CONFIG REWRITE but writes all configuration options, including',
  '    keywords not listed in original configuration file or default values.',
  'CRASH-AND-RECOVER [<milliseconds>]',
  '    Hard crash and restart after a <milliseconds> delay (default 0).',
  'DIGEST',
  '    Output a hex signature representing the current DB content.',
  'DIGEST-VALUE <key> [<key> ...]',
  '    Output a hex signature of the values of all the specified keys.',
  'ERROR <string>',
  '    Return a Redis protocol error with <string> as message. Useful for clients',
  '    unit tests to simulate Redis errors.',
  'LEAK <string>',
  '    Create a memory leak of the input string.',
  'LOG <message>',
  '    Write <message> to the server log.',
  'HTSTATS <dbid>',
  '    Return hash table statistics of the specified Redis database.',
  'HTSTATS-KEY <key>',
  "    Like HTSTATS but for the hash table stored at <key>'s value.",
  'LOADAOF',
  '    Flush the AOF buffers on disk and reload the AOF in memory.',
  'REPLICATE <string>',
  '    Replicates the provided string to replicas, allowing data divergence.',
  'MALLCTL <key> [<val>]',
  '    Get or set a malloc tuning integer.',
  'MALLCTL-STR <key> [<val>]',
  '    Get or set a malloc tuning string.',
  'OBJECT <key>',
  '    Show low level info about `key` and associated value.',
  'DROP-CLUSTER-PACKET-FILTER <packet-type>',
  '    Drop all packets that match the filtered type. Set to -1 allow all packets.',
  'OOM',
  '    Crash the server simulating an out-of-memory error.',
  'PANIC',
  '    Crash the server simulating a panic.',
  'POPULATE <count> [<prefix>] [<size>]',
  '    Create <count> string keys named key:<num>. If <prefix> is specified then',
  "    it is used instead of the 'key' prefix. These are not propagated to",
  '    replicas. Cluster slots are not respected so keys not belonging to the',
  '    current node can be created in cluster mode.',
  'PROTOCOL <type>',
  '    Reply with a test value of the specified type. <type> can be: string,',
  '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
  '    true, false.',
  'RELOAD [option ...]',
  '    Save the RDB on disk and reload it back to memory. Valid <option> values:',
  '    * MERGE: conflicting keys will be loaded from RDB.',
  '    * NOFLUSH: the existing database will not be removed before load, but',
  '      conflicting keys will generate an exception and kill the server.',
  '    * NOSAVE: the database will be loaded from an existing RDB file.',
  '    Examples:',
  '    * DEBUG RELOAD: verify that the server is able to persist, flush and reload',
  '      the database.',
  '    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an',
  '      existing RDB file.',
  '    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB',
  '      file to the database.',
  'RESTART [<milliseconds>]',
  '    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).',
  'SDSLEN <key>',
  '    Show low level SDS string info representing `key` and value.',
  'SEGFAULT',
  '    Crash the server with sigsegv.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
  '    default.',
  'QUICKLIST-PACKED-THRESHOLD <size>',
  '    Sets the threshold for elements to be inserted as plain vs packed nodes',
  '    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.',
  'SET-SKIP-CHECKSUM-VALIDATION <0|1>',
  '    Enables or disables checksum checks for RDB files and RESTORE\'s payload.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
  'STRINGMATCH-TEST',
  '    Run a fuzz tester against the stringmatchlen() function.',
  'STRUCTSIZE',
  '    Return the size of different Redis core C structures.',
  'LISTPACK <key>',
  '    Show low level info about the listpack encoding of <key>.',
  'QUICKLIST <key> [<0|1>]',
  '    Show low level info about the quicklist encoding of <key>.',
  '    The optional argument (0 by default) sets the level of detail',
  'CLIENT-EVICTION',
  '    Show low level client eviction pools info (maxmemory-clients).',
  'PAUSE-CRON <0|1>',
  '    Stop periodic cron job processing.',
  'REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>',
  '    Sets the time (in milliseconds) to wait between client reply buffer peak resets.',
  '    In case NEVER is provided the last observed peak will never be reset',
  '    In case RESET is provided the peak reset time will be restored to the default value',
  'REPLYBUFFER RESIZING <0|1>',
  '    Enable or disable the reply buffer resize cron job',
  'CLUSTERLINK KILL <to|from|all> <node-id>',
  '    Kills the link based on the direction to/from (both) with the provided node.',
];

/** Redis subcommands Amber knows but does not provide (crashes, allocator and encoding internals). */
const UNSUPPORTED = new Set([
  'aof-flush-sleep', 'assert', 'config-rewrite-force-all', 'crash-and-recover', 'leak',
  'htstats', 'htstats-key', 'replicate', 'mallctl', 'mallctl-str', 'drop-cluster-packet-filter', 'oom',
  'panic', 'reload', 'restart', 'sdslen', 'segfault', 'quicklist-packed-threshold',
  'stringmatch-test', 'structsize', 'listpack', 'quicklist', 'client-eviction', 'pause-cron', 'replybuffer', 'clusterlink',
]);

/** Blocks the whole event loop, as Redis's nanosleep in the main thread. */
function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** strtod's leading-number parse: "1.5x" is 1.5, "abc" is 0. */
function strtod(s: string): number {
  const v = Number.parseFloat(s);
  return Number.isNaN(v) ? 0 : v;
}

/** getPositiveLongFromObjectOrReply with no message: null after replying. */
function positiveLong(c: Client, s: string): number | null {
  const v = parseInt64(s);
  if (v === null || v < 0n) {
    c.addError('ERR value is out of range, must be positive');
    return null;
  }
  return Number(v);
}

function debugObject(c: Client): void {
  const key = c.argv[2]!;
  // like debug.c, a raw dictFind: no expiry, no stats
  const v = c.db.segmentOf(key).get(key);
  if (v === undefined) {
    c.addError('ERR no such key');
    return;
  }
  const enc = encodingOf(c.db, key, v);
  // debug.c prints the object's lru field (the LRU clock, or LFU data under an LFU policy) and
  // estimateObjectIdleTime of it whatever the policy
  const lru = c.db.lruOf(key, v);
  const addr = '0x' + (0x7f0000000000 + ((hashAddr(key) * 16) % 0x10000000000)).toString(16);
  let extra = '';
  if (v instanceof ListObject) {
    // the quicklist's nodes as an RDB save lays them out (ListObject.quicklistNodes): those Redis
    // holds after the same commands, with the fill of the list's creation, when the list kept
    // them; else as pushed at the tail under the fill configured now
    const cfg = c.server.config;
    const fill = v.layout()?.fill ?? cfg.get<number>('list-max-listpack-size');
    const nodes = v.quicklistNodes(fill);
    let bytes = 0;
    for (const n of nodes) bytes += n.bytes;
    extra = ` ql_nodes:${nodes.length} ql_avg_node:${formatFixed(v.length / nodes.length, 2)} ql_listpack_max:${fill}` +
      ` ql_compressed:${cfg.get<number>('list-compress-depth') !== 0 ? 1 : 0} ql_uncompressed_size:${bytes}`;
  }
  c.addSimple(`Value at:${addr} refcount:${refcountOf(c, key, v)} encoding:${enc} serializedlength:${serializedLength(v, c)} lru:${lru} lru_seconds_idle:${Math.floor(estimateIdleMs(c.db.ks, lru) / 1000)}${extra}`);
}

function hashAddr(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** DEBUG POPULATE count [prefix] [size]: string keys key:N = value:N, not propagated. */
function debugPopulate(c: Client): void {
  const argv = c.argv;
  const keys = positiveLong(c, argv[2]!);
  if (keys === null) return;
  let valsize = 0;
  if (argv.length === 5) {
    const v = positiveLong(c, argv[4]!);
    if (v === null) return;
    valsize = v;
  }
  const prefix = argv.length >= 4 ? argv[3]! : 'key';
  const ks = c.server.keyspace;
  const dirty = ks.dirty;
  for (let j = 0; j < keys; j++) {
    const key = `${prefix}:${j}`.slice(0, 127); // snprintf into a 128-byte buffer
    if (c.db.peek(key) !== undefined) continue;
    let val = `value:${j}`;
    if (valsize !== 0) val = valsize <= val.length ? val.slice(0, valsize) : val + '\0'.repeat(valsize - val.length);
    c.db.setKey(key, val);
  }
  // dbAdd neither dirties the dataset nor propagates: POPULATE is a test fixture
  ks.dirty = dirty;
  c.server.effects.prevent();
  c.addOk();
}

/** DEBUG PROTOCOL type: a test reply of each RESP3 type. */
function debugProtocol(c: Client): void {
  const name = c.argv[2]!.toLowerCase();
  switch (name) {
    case 'string': c.addBulk('Hello World'); break;
    case 'integer': c.addInt(12345); break;
    case 'double': c.addDouble(3.141); break;
    case 'bignum':
      if (c.resp === 3) c.addRaw('(1234567999999999999999999999999999999\r\n');
      else c.addBulk('1234567999999999999999999999999999999');
      break;
    case 'null': c.addNull(); break;
    case 'array':
      c.addArrayLen(3);
      for (let j = 0; j < 3; j++) c.addInt(j);
      break;
    case 'set':
      c.addSetLen(3);
      for (let j = 0; j < 3; j++) c.addInt(j);
      break;
    case 'map':
      c.addMapLen(3);
      for (let j = 0; j < 3; j++) {
        c.addInt(j);
        c.addBool(j === 1);
      }
      break;
    case 'attrib':
      if (c.resp === 3) {
        c.addRaw('|1\r\n');
        c.addBulk('key-popularity');
        c.addArrayLen(2);
        c.addBulk('key:123');
        c.addInt(90);
      }
      c.addBulk('Some real reply following the attribute');
      break;
    case 'push':
      if (c.resp < 3) {
        c.addError('ERR RESP2 is not supported by this command');
        return;
      }
      c.addPushLen(2);
      c.addBulk('server-cpu-usage');
      c.addInt(42);
      c.addBulk('Some real reply following the push reply');
      break;
    case 'true': c.addBool(true); break;
    case 'false': c.addBool(false); break;
    case 'verbatim': c.addVerbatim('This is a verbatim\nstring'); break;
    default:
      c.addError('ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false');
  }
}

/** DEBUG <subcommand> [args] (debugCommand). */
function debug(c: Client): void {
  const argv = c.argv;
  const argc = argv.length;
  const sub = argv[1]!.toLowerCase();
  if (sub === 'help' && argc === 2) {
    addReplyHelp(c, HELP);
    return;
  }
  const ext = extra.get(sub);
  if (ext !== undefined) {
    ext(c);
    return;
  }
  if (sub === 'sleep' && argc === 3) {
    sleepSync(strtod(argv[2]!) * 1000);
    c.addOk();
  } else if (sub === 'set-active-expire' && argc === 3) {
    // atoi: anything but a leading non-zero number disables
    setActiveExpire(Number.parseInt(argv[2]!, 10) ? true : false);
    c.addOk();
  } else if (sub === 'object' && argc === 3) {
    debugObject(c);
  } else if (sub === 'populate' && argc >= 3 && argc <= 5) {
    debugPopulate(c);
  } else if (sub === 'protocol' && argc === 3) {
    debugProtocol(c);
  } else if (sub === 'error' && argc === 3) {
    // the argument is the whole error line, code included
    c.addError(argv[2]!);
  } else if (sub === 'log' && argc === 3) {
    c.server.log.warning(`DEBUG LOG: ${argv[2]!}`);
    c.addOk();
  } else if (sub === 'digest' && argc === 2) {
    c.addSimple(datasetDigest(c.server.keyspace));
  } else if (sub === 'digest-value' && argc >= 2) {
    // no expiry check: a debug command sees logically expired keys, as Redis's dictFind
    c.addArrayLen(argc - 2);
    for (let j = 2; j < argc; j++) c.addSimple(valueDigest(c.db, argv[j]!));
  } else if (sub === 'change-repl-id' && argc === 2) {
    c.server.log.warning('Changing replication IDs after receiving DEBUG change-repl-id');
    c.addOk();
  } else if (UNSUPPORTED.has(sub)) {
    c.addError(`ERR DEBUG ${argv[1]!.toUpperCase()} is not supported by Amber`);
  } else {
    addReplySubcommandSyntaxError(c);
  }
}

export const debugCommands: Record<string, Handler> = {
  debug,
};
