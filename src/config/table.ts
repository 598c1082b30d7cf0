import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  boolDirective, intDirective, memoryDirective, enumDirective, stringDirective, numericDirective,
  ConfigError, parseYesNo, reprArg, formatMemoryForRewrite, memtoull,
  type Directive, type DirectiveBase, type RewriteLine,
} from './directives.js';
import { stringsDirectives } from './areas/strings.js';
import { keysDirectives } from './areas/keys.js';
import { serverDirectives } from './areas/server.js';
import { listsDirectives } from './areas/lists.js';
import { hashesDirectives } from './areas/hashes.js';
import { setsDirectives } from './areas/sets.js';
import { zsetsDirectives } from './areas/zsets.js';
import { hyperloglogDirectives } from './areas/hyperloglog.js';
import { pubsubDirectives } from './areas/pubsub.js';
import { transactionsDirectives } from './areas/transactions.js';
import { streamsDirectives } from './areas/streams.js';
import { rdbDirectives } from './areas/rdb.js';
import { aofDirectives } from './areas/aof.js';
import { leveldbDirectives } from './areas/leveldb.js';
import { parseNotifyFlags, formatNotifyFlags } from '../keyspace/notify.js';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;
const LONG_MAX = (1n << 63n) - 1n;
const LLONG_MAX = LONG_MAX;
const ULLONG_MAX = (1n << 64n) - 1n;
const SSIZE_MAX = LONG_MAX;

/**
 * Every directive of the server: Redis 7.0.15's whole table (names, aliases, defaults, bounds,
 * flags and errors of standardConfig in src/config.c), then the directives of each layer
 * (src/config/areas/*). A layer's directive replaces the entry of the same name here and keeps
 * the Redis flags it does not set itself (aliases, hidden, protected, denyLoading, sensitive and
 * the CONFIG REWRITE form). Directives of features Amber does not have are accepted and shown
 * with Redis's defaults so that redis.conf files and tools work; the few whose non-default value
 * would silently not work (daemonize, cluster-enabled, tls-port, replicaof...) refuse it.
 */
export function coreDirectives(): Directive[] {
  const byName = new Map<string, Directive>();
  for (const d of redisDirectives()) byName.set(d.name, d);
  const areas = [
    stringsDirectives, keysDirectives, serverDirectives, listsDirectives, hashesDirectives,
    setsDirectives, zsetsDirectives, hyperloglogDirectives, pubsubDirectives, transactionsDirectives,
    streamsDirectives, rdbDirectives, aofDirectives, leveldbDirectives,
  ];
  for (const list of areas) {
    for (const d of list) {
      const base = byName.get(d.name);
      if (base === undefined) {
        byName.set(d.name, d);
        continue;
      }
      // The layer's parse/format/default/apply/mutability win, with its own exact() or none (the
      // core one parses with the core rules, which the layer may have changed). Redis's facts
      // about the name stay: aliases, CONFIG GET visibility, protection, secrecy.
      const merged: Directive = {
        ...base, exact: undefined, ...d,
        aliases: [...new Set([...(base.aliases ?? []), ...(d.aliases ?? [])])],
        hidden: base.hidden,
        protected: base.protected || d.protected,
        denyLoading: base.denyLoading || d.denyLoading,
        sensitive: base.sensitive || d.sensitive,
      };
      if (d.apply === undefined && base.apply !== undefined) merged.apply = base.apply;
      byName.set(d.name, merged);
    }
  }
  return [...byName.values()];
}

/** A directive Amber accepts only at its default value: the feature is not implemented. */
function onlyDefault<T>(d: DirectiveBase<T>, why: string): DirectiveBase<T> {
  const parse = d.parse;
  return {
    ...d,
    parse(args, old, ctx) {
      const v = parse.call(d, args, old, ctx);
      if (d.format(v) !== d.format(d.default)) throw new ConfigError(why);
      return v;
    },
  };
}

/** Redis's enum with bit flags over several words (shutdown-on-sigint/sigterm). */
function flagsEnumDirective(name: string, names: Array<[string, number]>, isValid?: (v: number) => string | null): DirectiveBase<number> {
  const list = names.map(([n]) => n).join(', ');
  return {
    name, mutable: true, default: 0, arity: -1,
    parse(args) {
      if (args.length === 0) throw new ConfigError(`argument(s) must be one of the following: ${list}`);
      let v = 0;
      for (const a of args) {
        const e = names.find(([n]) => n === a.toLowerCase());
        if (!e) throw new ConfigError(`argument(s) must be one of the following: ${list}`);
        v |= e[1];
      }
      const err = isValid?.(v);
      if (err) throw new ConfigError(err);
      return v;
    },
    format(v) {
      const zero = names.find(([, f]) => f === 0);
      if (v === 0) return zero ? zero[0] : '';
      return names.filter(([, f]) => f !== 0 && (v & f) === f).map(([n]) => n).join(' ');
    },
  };
}

/** A string checked by a validator before it is accepted (isValid* in config.c). */
function validated(d: DirectiveBase<string>, check: (v: string) => string | null): DirectiveBase<string> {
  return {
    ...d,
    parse(args, old, ctx) {
      const v = d.parse(args, old, ctx);
      const err = check(v);
      if (err) throw new ConfigError(err);
      return v;
    },
  };
}

function isBaseName(p: string): boolean {
  return !p.includes('/');
}

/**
 * validateProcTitleTemplate (server.c): sdstemplate expansion with `{{` for a literal brace and
 * known variables only, then the result trimmed of spaces must not be empty. The variables expand
 * as at validation time: `{title}`, `{server-mode}`, `{unixsocket}` and `{config-file}` to ''.
 */
const PROC_TITLE_VARS: Record<string, string> = {
  title: '', 'listen-addr': '*:6379', 'server-mode': '', port: '6379', 'tls-port': '0', unixsocket: '', 'config-file': '',
};

function validProcTitle(t: string): boolean {
  let res = '';
  let p = 0;
  while (p < t.length) {
    const sv = t.indexOf('{', p);
    if (sv < 0) {
      res += t.slice(p);
      break;
    }
    res += t.slice(p, sv);
    if (sv + 1 >= t.length) return false;
    if (t[sv + 1] === '{') {
      res += '{';
      p = sv + 2;
      continue;
    }
    const ev = t.indexOf('}', sv + 1);
    if (ev < 0) return false;
    const name = t.slice(sv + 1, ev);
    if (!Object.hasOwn(PROC_TITLE_VARS, name)) return false;
    res += PROC_TITLE_VARS[name];
    p = ev + 1;
  }
  return res.replace(/^ +| +$/g, '') !== '';
}

/** One `save <seconds> <changes>` point. */
export type SavePoint = [seconds: number, changes: number];

/** strtoll(s, &end, 10) with `*end == '\0'`: leading spaces and a sign allowed. */
function strtollWhole(s: string): number | null {
  if (s === '') return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  return m ? Number(m[1]) : null;
}

/**
 * `save <seconds> <changes> [...]` (setConfigSaveOption): at start-up the first save line
 * replaces the defaults and later ones add points; CONFIG SET replaces all; `save ""` clears.
 */
const saveDirective: DirectiveBase<SavePoint[]> = {
  name: 'save', mutable: true, default: [[3600, 1], [300, 100], [60, 10000]], arity: -1,
  parse(args, old, ctx) {
    if (args.length === 1 && args[0] === '') args = [];
    if (args.length % 2 === 1) throw new ConfigError('Invalid save parameters');
    const points: SavePoint[] = [];
    for (let j = 0; j < args.length; j += 2) {
      const s = strtollWhole(args[j]!);
      const ch = strtollWhole(args[j + 1]!);
      if (s === null || ch === null || s < 1 || ch < 0) throw new ConfigError('Invalid save parameters');
      points.push([s, ch]);
    }
    return ctx?.startup && ctx.repeated ? [...(old ?? []), ...points] : points;
  },
  format: (v) => v.map(([s, c]) => `${s} ${c}`).join(' '),
  rewrite(formatted) {
    const w = formatted.split(' ').filter((x) => x !== '');
    if (w.length === 0) return [{ line: 'save ""', force: true }];
    const out: RewriteLine[] = [];
    for (let i = 0; i + 1 < w.length; i += 2) out.push({ line: `save ${w[i]} ${w[i + 1]}`, force: true });
    return out;
  },
};

const DEFAULT_BIND = ['*', '-::*'];

/** `bind <addr> ...` (setConfigBindOption); the listeners follow through the server. */
const bindDirective: DirectiveBase<string[]> = {
  name: 'bind', mutable: true, default: DEFAULT_BIND, arity: -1,
  parse(args) {
    if (args.length > 16) throw new ConfigError('Too many bind addresses specified.');
    return args.length === 1 && args[0] === '' ? [] : args.slice();
  },
  format: (v) => v.join(' '),
  rewrite(formatted) {
    if (formatted === DEFAULT_BIND.join(' ')) return [];
    return [{ line: `bind ${formatted === '' ? '""' : formatted}`, force: true }];
  },
};

/** The three classes of client-output-buffer-limit, for CONFIG REWRITE. */
const COBL_DEFAULTS: Record<string, [bigint, bigint, number]> = {
  normal: [0n, 0n, 0],
  slave: [256n * 1024n * 1024n, 64n * 1024n * 1024n, 60],
  pubsub: [32n * 1024n * 1024n, 8n * 1024n * 1024n, 60],
};

/**
 * client-output-buffer-limit placeholder with Redis's default and CONFIG GET form; the pub/sub
 * layer supplies the real directive (areas/pubsub.ts) and inherits this rewrite form.
 */
const coblDirective: DirectiveBase<string> = {
  name: 'client-output-buffer-limit', mutable: true,
  default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', arity: -1,
  parse(args, old) {
    if (args.length % 4 !== 0) throw new ConfigError('Wrong number of arguments in buffer limit configuration.');
    const cur = new Map<string, string[]>();
    const w = old.split(' ');
    for (let i = 0; i + 3 < w.length; i += 4) cur.set(w[i]!, w.slice(i + 1, i + 4));
    const next = new Map(cur);
    for (let j = 0; j < args.length; j += 4) {
      let cls = args[j]!.toLowerCase();
      if (cls === 'replica') cls = 'slave';
      if (!cur.has(cls)) throw new ConfigError('Invalid client class specified in buffer limit configuration.');
      const hard = memtoull(args[j + 1]!);
      const soft = memtoull(args[j + 2]!);
      const secs = strtollWhole(args[j + 3]!);
      if (hard === null || soft === null || secs === null || secs < 0) {
        throw new ConfigError('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
      }
      next.set(cls, [hard.toString(), soft.toString(), String(secs)]);
    }
    return [...next].map(([k, v]) => `${k} ${v.join(' ')}`).join(' ');
  },
  format: (v) => v,
  rewrite: rewriteCobl,
};

function rewriteCobl(formatted: string, d: Directive): RewriteLine[] {
  const w = formatted.split(' ');
  const out: RewriteLine[] = [];
  for (let i = 0; i + 3 < w.length; i += 4) {
    const cls = w[i]!;
    const hard = BigInt(w[i + 1]!);
    const soft = BigInt(w[i + 2]!);
    const secs = Number(w[i + 3]);
    const def = COBL_DEFAULTS[cls];
    const force = !def || def[0] !== hard || def[1] !== soft || def[2] !== secs;
    const name = cls === 'slave' ? 'replica' : cls;
    out.push({
      line: `${d.name} ${name} ${formatMemoryForRewrite(BigInt.asIntN(64, hard))} ${formatMemoryForRewrite(BigInt.asIntN(64, soft))} ${secs}`,
      force,
    });
  }
  return out;
}

const SHUTDOWN_SAVE = 1;
const SHUTDOWN_NOSAVE = 2;
const SHUTDOWN_FLAGS: Array<[string, number]> = [['default', 0], ['save', SHUTDOWN_SAVE], ['nosave', SHUTDOWN_NOSAVE], ['now', 4], ['force', 8]];
const validShutdownFlags = (v: number): string | null =>
  (v & SHUTDOWN_SAVE) && (v & SHUTDOWN_NOSAVE) ? "shutdown options SAVE and NOSAVE can't be used simultaneously" : null;

/** The shutdown-on-sigint/sigterm flag values (SHUTDOWN_* in server.h). */
export const SHUTDOWN_FLAG = { save: SHUTDOWN_SAVE, nosave: SHUTDOWN_NOSAVE, now: 4, force: 8 } as const;

/** Percentile list of latency-tracking-info-percentiles (setConfigLatencyTracking...). */
const latencyPercentiles: DirectiveBase<number[]> = {
  name: 'latency-tracking-info-percentiles', mutable: true, default: [50, 99, 99.9], arity: -1,
  parse(args) {
    if (args.length === 1 && args[0] === '') return [];
    const out: number[] = [];
    for (const a of args) {
      // string2d: strtod over the whole string, no spaces, not NaN
      if (a === '' || /^\s/.test(a) || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$/i.test(a)) {
        throw new ConfigError('Invalid latency-tracking-info-percentiles parameters');
      }
      const p = Number(a.replace(/inf(inity)?$/i, 'Infinity'));
      if (p > 100 || p < 0) throw new ConfigError('latency-tracking-info-percentiles parameters should sit between [0.0,100.0]');
      out.push(p);
    }
    return out;
  },
  format: (v) => v.map(fmtPercentile).join(' '),
  rewrite(formatted, d) {
    return [{ line: `${d.name} ${formatted === '' ? '""' : formatted}`, force: true }];
  },
};

/** `%f` then trimDoubleString: 99.900000 -> 99.9, 50.000000 -> 50. */
function fmtPercentile(p: number): string {
  let s = p.toFixed(6);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** oom-score-adj-values: three integers in [-2000, 2000]. */
const oomScoreAdjValues: DirectiveBase<number[]> = {
  name: 'oom-score-adj-values', mutable: true, default: [0, 200, 800], arity: -1,
  parse(args) {
    if (args.length !== 3) throw new ConfigError('wrong number of arguments');
    return args.map((a) => {
      const v = strtollWhole(a);
      if (v === null || v < -2000 || v > 2000) throw new ConfigError('Invalid oom-score-adj-values, elements must be between -2000 and 2000.');
      return v;
    });
  },
  format: (v) => v.join(' '),
};

/** `replicaof <host> <port>`: Amber has no replication, so only `no one` is accepted. */
const replicaOf: DirectiveBase<string> = {
  name: 'replicaof', aliases: ['slaveof'], mutable: false, default: '', arity: -1,
  parse(args) {
    if (args.length !== 2) throw new ConfigError('wrong number of arguments');
    if (args[0]!.toLowerCase() === 'no' && args[1]!.toLowerCase() === 'one') return '';
    const port = /^[ \t\n\v\f\r]*[+-]?\d+$/.test(args[1]!) ? Number(args[1]) : NaN;
    if (!(port >= 0 && port <= 65535)) throw new ConfigError('Invalid master port');
    throw new ConfigError('replicaof is not supported: Amber has no replication');
  },
  format: (v) => v,
  rewrite: () => [],
};

/** notify-keyspace-events class string (setConfigNotifyKeyspaceEventsOption). */
const notifyKeyspaceEvents: DirectiveBase<number> = {
  name: 'notify-keyspace-events', mutable: true, default: 0, arity: 1,
  parse([s]) {
    const f = parseNotifyFlags(s ?? '');
    if (f === null) throw new ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    return f;
  },
  format: (v) => formatNotifyFlags(v),
  rewrite(formatted, d) {
    return [{ line: `${d.name} ${reprArg(formatted)}`, force: formatted !== '' }];
  },
};

/**
 * `dir`: the working directory (setConfigDirOption). The value is the absolute path; CONFIG GET
 * shows the process's current directory when none was set. At start-up Amber creates the directory
 * when it is missing (the server does, in init); CONFIG SET needs an existing one, as in Redis.
 */
const dirDirective: DirectiveBase<string> = {
  name: 'dir', mutable: true, default: '', arity: 1, protected: true, denyLoading: true,
  parse([s], _old, ctx) {
    if (s === undefined || s === '') throw new ConfigError('No such file or directory');
    const abs = resolve(s);
    if (ctx?.startup) ensureDir(abs);
    return abs;
  },
  format: (v) => (v === '' ? process.cwd() : v),
  apply(v) {
    try {
      process.chdir(v);
    } catch (e) {
      throw new ConfigError(strerror(e as NodeJS.ErrnoException));
    }
  },
  rewrite(formatted, d) {
    return [{ line: `${d.name} ${reprArg(formatted)}`, force: true }];
  },
};

/**
 * Creates the data directory at start-up when it is missing (an Amber convenience; Redis refuses
 * a missing `dir`).
 * @throws ConfigError with strerror's text when it cannot be created or is not a directory
 */
export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
    if (!statSync(path).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (e) {
    throw new ConfigError(strerror(e as NodeJS.ErrnoException));
  }
}

/** strerror(errno) text for a Node system error. */
export function strerror(e: NodeJS.ErrnoException): string {
  const texts: Record<string, string> = {
    ENOENT: 'No such file or directory', EACCES: 'Permission denied', ENOTDIR: 'Not a directory',
    EISDIR: 'Is a directory', EROFS: 'Read-only file system', ENOSPC: 'No space left on device',
    EEXIST: 'File exists', EPERM: 'Operation not permitted', ENAMETOOLONG: 'File name too long',
    ELOOP: 'Too many levels of symbolic links', EMFILE: 'Too many open files', EIO: 'Input/output error',
    EDQUOT: 'Disk quota exceeded', EBUSY: 'Device or resource busy', EINVAL: 'Invalid argument',
  };
  return (e.code && texts[e.code]) || e.message;
}

const str = stringDirective;
const NULL_STR = { emptyIsNull: true } as const;
const bool = boolDirective;
const int = intDirective;
const uint = (name: string, def: number, min: number, max: number | bigint, mutable = true, extra: Partial<DirectiveBase<number>> = {}): Directive =>
  numericDirective(name, def, min, max, { unsigned: true, mutable }, extra);
const umem = (name: string, def: number, min: number | bigint, max: number | bigint, extra: Partial<DirectiveBase<number>> = {}): Directive =>
  numericDirective(name, def, min, max, { kind: 'memory', unsigned: true }, extra);
const alias = (...a: string[]): { aliases: string[] } => ({ aliases: a });

/** Redis 7.0.15's standardConfig table, in its order. */
function redisDirectives(): Directive[] {
  return [
    // Bool configs
    bool('rdbchecksum', true, false),
    bool('daemonize', false, false, {
      parse([s]) {
        const v = parseYesNo(s ?? '');
        if (v === null) throw new ConfigError("argument must be 'yes' or 'no'");
        if (v) {
          throw new ConfigError('daemonize yes is not supported: Amber runs in the foreground; use your service manager (systemd, docker) to run it in the background');
        }
        return v;
      },
    }),
    bool('io-threads-do-reads', false, false),
    bool('always-show-logo', false, false),
    bool('protected-mode', true),
    bool('rdbcompression', true),
    bool('rdb-del-sync-files', false),
    bool('activerehashing', true),
    bool('stop-writes-on-bgsave-error', true),
    bool('set-proc-title', true, false),
    bool('dynamic-hz', true),
    bool('lazyfree-lazy-eviction', false),
    bool('lazyfree-lazy-expire', false),
    bool('lazyfree-lazy-server-del', false),
    bool('lazyfree-lazy-user-del', false),
    bool('lazyfree-lazy-user-flush', false),
    bool('repl-disable-tcp-nodelay', false),
    bool('repl-diskless-sync', true),
    bool('aof-rewrite-incremental-fsync', true),
    bool('no-appendfsync-on-rewrite', false),
    bool('cluster-require-full-coverage', true),
    bool('rdb-save-incremental-fsync', true),
    bool('aof-load-truncated', true),
    bool('aof-use-rdb-preamble', true),
    bool('aof-timestamp-enabled', false),
    bool('cluster-replica-no-failover', false, true, alias('cluster-slave-no-failover')),
    bool('replica-lazy-flush', false, true, alias('slave-lazy-flush')),
    bool('replica-serve-stale-data', true, true, alias('slave-serve-stale-data')),
    bool('replica-read-only', true, true, alias('slave-read-only')),
    bool('replica-ignore-maxmemory', true, true, alias('slave-ignore-maxmemory')),
    bool('jemalloc-bg-thread', true),
    onlyDefault(bool('activedefrag', false), 'Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution'),
    onlyDefault(bool('syslog-enabled', false, false), 'syslog-enabled yes is not supported: Amber logs to stdout or to logfile'),
    onlyDefault(bool('cluster-enabled', false, false), 'cluster-enabled yes is not supported: Amber has no cluster mode'),
    bool('appendonly', false, true, { denyLoading: true }),
    bool('cluster-allow-reads-when-down', false),
    bool('cluster-allow-pubsubshard-when-down', true),
    bool('crash-log-enabled', true),
    bool('crash-memcheck-enabled', true),
    bool('use-exit-on-panic', false, true, { hidden: true }),
    bool('disable-thp', true, false),
    bool('cluster-allow-replica-migration', true),
    bool('replica-announced', true),
    bool('latency-tracking', true),
    bool('aof-disable-auto-gc', false),
    bool('replica-ignore-disk-write-errors', false),

    // String configs
    str('aclfile', '', false),
    str('unixsocket', '', false, NULL_STR),
    str('pidfile', '', false, NULL_STR),
    str('replica-announce-ip', '', true, { ...NULL_STR, ...alias('slave-announce-ip') }),
    str('masteruser', '', true, { ...NULL_STR, sensitive: true }),
    str('cluster-announce-ip', '', true, NULL_STR),
    str('cluster-config-file', 'nodes.conf', false),
    validated(str('cluster-announce-hostname', '', true, NULL_STR), (v) => {
      if (v.length >= 256) return 'Hostnames must be less than 256 characters';
      return /^[A-Za-z0-9.-]*$/.test(v) ? null : 'Hostnames may only contain alphanumeric characters, hyphens or dots';
    }),
    str('syslog-ident', 'redis', false),
    validated(str('dbfilename', 'dump.rdb', true, { protected: true }), (v) => (isBaseName(v) ? null : "dbfilename can't be a path, just a filename")),
    validated(str('appendfilename', 'appendonly.aof', false), (v) =>
      v === '' ? "appendfilename can't be empty" : isBaseName(v) ? null : "appendfilename can't be a path, just a filename"),
    validated(str('appenddirname', 'appendonlydir', false), (v) =>
      v === '' ? "appenddirname can't be empty" : isBaseName(v) ? null : "appenddirname can't be a path, just a dirname"),
    str('server_cpulist', '', false, NULL_STR),
    str('bio_cpulist', '', false, NULL_STR),
    str('aof_rewrite_cpulist', '', false, NULL_STR),
    str('bgsave_cpulist', '', false, NULL_STR),
    str('ignore-warnings', ''),
    validated(str('proc-title-template', '{title} {listen-addr} {server-mode}'), (v) =>
      validProcTitle(v) ? null : 'template format is invalid or contains unknown variables'),
    str('bind-source-addr', '', true, NULL_STR),
    str('logfile', '', false),
    str('masterauth', '', true, { ...NULL_STR, sensitive: true }),
    str('requirepass', '', true, { ...NULL_STR, sensitive: true }),

    // Enum configs
    enumDirective('supervised', 'no', ['upstart', 'systemd', 'auto', 'no'], false),
    enumDirective('syslog-facility', 'local0', ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'], false),
    enumDirective('repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb'], true, { denyLoading: true }),
    enumDirective('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning']),
    enumDirective('maxmemory-policy', 'noeviction',
      ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction']),
    enumDirective('appendfsync', 'everysec', ['everysec', 'always', 'no']),
    enumDirective('oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute']),
    enumDirective('acl-pubsub-default', 'resetchannels', ['allchannels', 'resetchannels']),
    enumDirective('sanitize-dump-payload', 'no', ['no', 'yes', 'clients']),
    enumDirective('enable-protected-configs', 'no', ['no', 'yes', 'local'], false),
    enumDirective('enable-debug-command', 'no', ['no', 'yes', 'local'], false),
    enumDirective('enable-module-command', 'no', ['no', 'yes', 'local'], false),
    enumDirective('cluster-preferred-endpoint-type', 'ip', ['ip', 'hostname', 'unknown-endpoint']),
    enumDirective('propagation-error-behavior', 'ignore', ['ignore', 'panic', 'panic-on-replicas']),
    flagsEnumDirective('shutdown-on-sigint', SHUTDOWN_FLAGS, validShutdownFlags),
    flagsEnumDirective('shutdown-on-sigterm', SHUTDOWN_FLAGS, validShutdownFlags),

    // Integer configs
    int('databases', 16, 1, INT_MAX, false),
    int('port', 6379, 0, 65535),
    int('io-threads', 1, 1, 128, false),
    int('auto-aof-rewrite-percentage', 100, 0, INT_MAX),
    int('cluster-replica-validity-factor', 10, 0, INT_MAX, true, alias('cluster-slave-validity-factor')),
    int('list-max-listpack-size', -2, INT_MIN, INT_MAX, true, alias('list-max-ziplist-size')),
    int('tcp-keepalive', 300, 0, INT_MAX),
    int('cluster-migration-barrier', 1, 0, INT_MAX),
    int('active-defrag-cycle-min', 1, 1, 99),
    int('active-defrag-cycle-max', 25, 1, 99),
    int('active-defrag-threshold-lower', 10, 0, 1000),
    int('active-defrag-threshold-upper', 100, 0, 1000),
    int('lfu-log-factor', 10, 0, INT_MAX),
    int('lfu-decay-time', 1, 0, INT_MAX),
    int('replica-priority', 100, 0, INT_MAX, true, alias('slave-priority')),
    int('repl-diskless-sync-delay', 5, 0, INT_MAX),
    int('maxmemory-samples', 5, 1, INT_MAX),
    int('maxmemory-eviction-tenacity', 10, 0, 100),
    int('timeout', 0, 0, INT_MAX),
    int('replica-announce-port', 0, 0, 65535, true, alias('slave-announce-port')),
    int('tcp-backlog', 511, 0, INT_MAX, false),
    int('cluster-port', 0, 0, 65535, false),
    int('cluster-announce-bus-port', 0, 0, 65535),
    int('cluster-announce-port', 0, 0, 65535),
    int('cluster-announce-tls-port', 0, 0, 65535),
    int('repl-timeout', 60, 1, INT_MAX),
    int('repl-ping-replica-period', 10, 1, INT_MAX, true, alias('repl-ping-slave-period')),
    int('list-compress-depth', 0, 0, INT_MAX),
    int('rdb-key-save-delay', 0, INT_MIN, INT_MAX, true, { hidden: true }),
    int('key-load-delay', 0, INT_MIN, INT_MAX, true, { hidden: true }),
    int('active-expire-effort', 1, 1, 10),
    hzDirective(),
    int('min-replicas-to-write', 0, 0, INT_MAX, true, alias('min-slaves-to-write')),
    int('min-replicas-max-lag', 10, 0, INT_MAX, true, alias('min-slaves-max-lag')),
    int('watchdog-period', 0, 0, INT_MAX, true, { hidden: true }),
    int('shutdown-timeout', 10, 0, INT_MAX),
    int('repl-diskless-sync-max-replicas', 0, 0, INT_MAX),

    // Unsigned int configs
    uint('maxclients', 10000, 1, UINT_MAX),
    numericDirective('unixsocketperm', 0, 0, 0o777, { kind: 'octal', unsigned: true, mutable: false }),
    uint('socket-mark-id', 0, 0, UINT_MAX, false),

    // Unsigned long configs
    uint('active-defrag-max-scan-fields', 1000, 1, LONG_MAX),
    uint('slowlog-max-len', 128, 0, LONG_MAX),
    uint('acllog-max-len', 128, 0, LONG_MAX),

    // Long long configs
    int('busy-reply-threshold', 5000, 0, LONG_MAX, true, alias('lua-time-limit')),
    int('cluster-node-timeout', 15000, 0, LLONG_MAX),
    int('slowlog-log-slower-than', 10000, -1, LLONG_MAX),
    int('latency-monitor-threshold', 0, 0, LLONG_MAX),
    memoryDirective('proto-max-bulk-len', 512 * 1024 * 1024, 1024 * 1024, LONG_MAX),
    int('stream-node-max-entries', 100, 0, LLONG_MAX),
    replBacklogSizeDirective(),

    // Unsigned long long configs
    umem('maxmemory', 0, 0, ULLONG_MAX),
    umem('cluster-link-sendbuf-limit', 0, 0, ULLONG_MAX),

    // Size_t configs
    uint('hash-max-listpack-entries', 512, 0, LONG_MAX, true, alias('hash-max-ziplist-entries')),
    uint('set-max-intset-entries', 512, 0, LONG_MAX),
    uint('zset-max-listpack-entries', 128, 0, LONG_MAX, true, alias('zset-max-ziplist-entries')),
    umem('active-defrag-ignore-bytes', 100 * 1024 * 1024, 1, LLONG_MAX),
    umem('hash-max-listpack-value', 64, 0, LONG_MAX, alias('hash-max-ziplist-value')),
    umem('stream-node-max-bytes', 4096, 0, LONG_MAX),
    umem('zset-max-listpack-value', 64, 0, LONG_MAX, alias('zset-max-ziplist-value')),
    umem('hll-sparse-max-bytes', 3000, 0, LONG_MAX),
    uint('tracking-table-max-keys', 1000000, 0, LONG_MAX),
    umem('client-query-buffer-limit', 1024 * 1024 * 1024, 1024 * 1024, LONG_MAX),
    numericDirective('maxmemory-clients', 0, -100, SSIZE_MAX, { kind: 'memory-percent' }),

    // Other numeric configs
    int('repl-backlog-ttl', 3600, 0, LONG_MAX),
    memoryDirective('auto-aof-rewrite-min-size', 64 * 1024 * 1024, 0, LLONG_MAX),
    int('loading-process-events-interval-bytes', 2 * 1024 * 1024, 1024, INT_MAX, true, { hidden: true }),

    // TLS (Debian builds Redis with TLS): Amber has no TLS listener, so tls-port stays 0
    onlyDefault(int('tls-port', 0, 0, 65535), 'tls-port is not supported: Amber has no TLS; use a TLS proxy'),
    int('tls-session-cache-size', 20 * 1024, 0, INT_MAX),
    int('tls-session-cache-timeout', 300, 0, INT_MAX),
    bool('tls-cluster', false),
    bool('tls-replication', false),
    enumDirective('tls-auth-clients', 'yes', ['no', 'yes', 'optional']),
    bool('tls-prefer-server-ciphers', false),
    bool('tls-session-caching', true),
    str('tls-cert-file', '', true, NULL_STR),
    str('tls-key-file', '', true, NULL_STR),
    str('tls-key-file-pass', '', true, NULL_STR),
    str('tls-client-cert-file', '', true, NULL_STR),
    str('tls-client-key-file', '', true, NULL_STR),
    str('tls-client-key-file-pass', '', true, NULL_STR),
    str('tls-dh-params-file', '', true, NULL_STR),
    str('tls-ca-cert-file', '', true, NULL_STR),
    str('tls-ca-cert-dir', '', true, NULL_STR),
    str('tls-protocols', '', true, NULL_STR),
    str('tls-ciphers', '', true, NULL_STR),
    str('tls-ciphersuites', '', true, NULL_STR),

    // Special configs
    dirDirective,
    saveDirective,
    coblDirective,
    oomScoreAdjValues,
    notifyKeyspaceEvents,
    bindDirective,
    replicaOf,
    latencyPercentiles,
  ];
}

/**
 * `repl-backlog-size`: CONFIG SET raises a value below 16 KB to 16 KB (CONFIG_REPL_BACKLOG_MIN_SIZE,
 * in resizeReplicationBacklog, its apply hook); the config file's value is kept as written, as
 * Redis applies no hook at start-up.
 */
function replBacklogSizeDirective(): Directive {
  const base = memoryDirective('repl-backlog-size', 1024 * 1024, 1, LLONG_MAX);
  return {
    ...base,
    parse(args, old, ctx) {
      const v = base.parse(args, old, ctx);
      return ctx.startup ? v : Math.max(16 * 1024, v);
    },
  };
}

/** `hz`: out-of-range values are accepted and capped to [1, 500], as updateHZ does. */
function hzDirective(): Directive {
  const base = int('hz', 10, 0, INT_MAX);
  return {
    ...base,
    parse(args, old, ctx) {
      const v = base.parse(args, old, ctx);
      return Math.max(1, Math.min(500, v));
    },
    exact: undefined,
  };
}
