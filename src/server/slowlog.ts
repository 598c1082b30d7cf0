import type { Server } from './server.js';
import type { Client } from './client.js';
import type { CommandSpec } from '../commands/spec.js';
import { loggedArgv } from './monitor.js';

/**
 * The slow log, after Redis 7.0's src/slowlog.c: commands whose execution took at least
 * `slowlog-log-slower-than` microseconds (negative: never; 0: every command) are kept, newest
 * first, up to `slowlog-max-len` entries. Commands flagged `skip_slowlog` (EXEC) are not logged;
 * the commands EXEC ran are, one by one. Redacted arguments (AUTH) are logged as `(redacted)`.
 */

/** Arguments kept per entry; the last place says how many more there were. */
export const SLOWLOG_ENTRY_MAX_ARGC = 32;
/** Bytes kept per argument; the rest is summarised as `... (N more bytes)`. */
export const SLOWLOG_ENTRY_MAX_STRING = 128;

/** One slow log entry (slowlogEntry in slowlog.h). */
export interface SlowlogEntry {
  id: number;
  /** Unix time in seconds when the command was logged */
  time: number;
  /** execution time in microseconds */
  duration: number;
  argv: string[];
  /** client `ip:port` */
  peerid: string;
  /** client name, '' when unnamed */
  cname: string;
}

/** The slow log of one server. */
export interface Slowlog {
  /** newest first */
  entries: SlowlogEntry[];
  nextId: number;
  /** cached `slowlog-log-slower-than` (us) and `slowlog-max-len` */
  slowerThan: number;
  maxLen: number;
}

const logs = new WeakMap<Server, Slowlog>();

/** The slow log of `server` (created empty on first use). */
export function slowlogOf(server: Server): Slowlog {
  let l = logs.get(server);
  if (l === undefined) {
    l = {
      entries: [], nextId: 0,
      slowerThan: server.config.get<number>('slowlog-log-slower-than'),
      maxLen: server.config.get<number>('slowlog-max-len'),
    };
    logs.set(server, l);
  }
  return l;
}

/** Builds an entry's argv as slowlogCreateEntry does: at most 32 args, args cut at 128 bytes. */
function entryArgv(argv: readonly string[]): string[] {
  const argc = argv.length;
  const slargc = Math.min(argc, SLOWLOG_ENTRY_MAX_ARGC);
  const out = new Array<string>(slargc);
  for (let j = 0; j < slargc; j++) {
    if (slargc !== argc && j === slargc - 1) {
      out[j] = `... (${argc - slargc + 1} more arguments)`;
    } else {
      const a = argv[j]!;
      out[j] = a.length > SLOWLOG_ENTRY_MAX_STRING
        ? a.slice(0, SLOWLOG_ENTRY_MAX_STRING) + `... (${a.length - SLOWLOG_ENTRY_MAX_STRING} more bytes)`
        : a;
    }
  }
  return out;
}

/**
 * Logs the command `c` just ran if it took at least slowlog-log-slower-than microseconds
 * (slowlogPushEntryIfNeeded), trimming the log to slowlog-max-len.
 * @param durationUs execution time in microseconds
 */
export function slowlogPushIfNeeded(server: Server, c: Client, argv: readonly string[], durationUs: number): void {
  const l = slowlogOf(server);
  if (l.slowerThan < 0 || l.maxLen === 0 || durationUs < l.slowerThan) return;
  l.entries.unshift({
    id: l.nextId++,
    time: Math.floor(Date.now() / 1000),
    duration: durationUs,
    argv: entryArgv(argv),
    peerid: c.addr,
    cname: c.name,
  });
  if (l.entries.length > l.maxLen) l.entries.length = l.maxLen;
}

/** SLOWLOG RESET: empties the log (ids keep growing, as in Redis). */
export function slowlogReset(server: Server): void {
  slowlogOf(server).entries.length = 0;
}

const installed = new WeakSet<Server>();

/**
 * Installs the slow log's after-command hook on `server` (once) and follows CONFIG SET of its two
 * directives. Install it before {@link installMonitor}, whose hook ends the redaction window.
 */
export function installSlowlog(server: Server): void {
  if (installed.has(server)) return;
  installed.add(server);
  const l = slowlogOf(server);
  server.config.onChange('slowlog-log-slower-than', (v) => { l.slowerThan = v as number; });
  // Like Redis, a smaller slowlog-max-len trims the log at the next push, not at CONFIG SET.
  server.config.onChange('slowlog-max-len', (v) => { l.maxLen = v as number; });
  server.afterCommandHooks.push((c: Client, spec: CommandSpec, us: number) => {
    if (l.slowerThan < 0 || us < l.slowerThan || l.maxLen === 0) return;
    if (spec.flags.has('skip_slowlog') || (spec.parent !== null && spec.parent.flags.has('skip_slowlog'))) return;
    // Redis logs a blocking command once, when it is served or times out; Amber logs it once
    // too, when it blocks, with the time its first run took.
    slowlogPushIfNeeded(server, c, loggedArgv(c), us);
  });
}
