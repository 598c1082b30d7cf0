import {
  boolDirective, intDirective, memoryDirective, enumDirective, stringDirective, ConfigError,
  type Directive,
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

const INT_MAX = 2147483647;
const LLONG_MAX = Number.MAX_SAFE_INTEGER;

/**
 * The directives of the server core, with Redis 7.0.15's names, defaults and bounds
 * (standardConfig table in src/config.c). Other layers register theirs with Config.register.
 */
export function coreDirectives(): Directive[] {
  return [
    ...serverDirectivesCore(),
    ...stringsDirectives,
    ...keysDirectives,
    ...serverDirectives,
    ...listsDirectives,
    ...hashesDirectives,
    ...setsDirectives,
    ...zsetsDirectives,
    ...hyperloglogDirectives,
    ...pubsubDirectives,
    ...transactionsDirectives,
    ...streamsDirectives,
    ...rdbDirectives,
    ...aofDirectives,
    ...leveldbDirectives,
  ];
}

function serverDirectivesCore(): Directive[] {
  return [
    intDirective('port', 6379, 0, 65535, true),
    {
      name: 'bind', mutable: true, default: ['*', '-::*'], arity: -1,
      parse: (args: string[]) => {
        if (args.length > 16) throw new ConfigError('Too many bind addresses specified.');
        return args.length === 1 && args[0] === '' ? [] : args;
      },
      format: (v: string[]) => v.join(' '),
    },
    boolDirective('protected-mode', true),
    stringDirective('requirepass', ''),
    stringDirective('dir', '', true),
    intDirective('databases', 16, 1, INT_MAX, false),
    intDirective('timeout', 0, 0, INT_MAX),
    intDirective('tcp-keepalive', 300, 0, INT_MAX),
    intDirective('tcp-backlog', 511, 0, INT_MAX, false),
    intDirective('maxclients', 10000, 1, INT_MAX),
    memoryDirective('proto-max-bulk-len', 512 * 1024 * 1024, 1024 * 1024, LLONG_MAX),
    memoryDirective('client-query-buffer-limit', 1024 * 1024 * 1024, 1024 * 1024, LLONG_MAX),
    enumDirective('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning'], true),
    stringDirective('logfile', '', false),
    intDirective('hz', 10, 0, INT_MAX),
    boolDirective('dynamic-hz', true),
    intDirective('active-expire-effort', 1, 1, 10),
    boolDirective('daemonize', false, false, {
      parse([s]) {
        const v = (s ?? '').toLowerCase();
        if (v === 'no') return false;
        if (v === 'yes') {
          throw new ConfigError('daemonize yes is not supported: Amber runs in the foreground; use your service manager (systemd, docker) to run it in the background');
        }
        throw new ConfigError("argument must be 'yes' or 'no'");
      },
    }),
    stringDirective('pidfile', '', false),
    stringDirective('unixsocket', '', false),
    intDirective('unixsocketperm', 0, 0, 0o777, false, { format: (v) => v.toString(8) }),
    enumDirective('supervised', 'no', ['upstart', 'systemd', 'auto', 'no'], false),
    boolDirective('always-show-logo', false, false),
    boolDirective('set-proc-title', true, false),
    intDirective('slowlog-log-slower-than', 10000, -1, LLONG_MAX),
    intDirective('slowlog-max-len', 128, 0, LLONG_MAX),
    {
      name: 'notify-keyspace-events', mutable: true, default: 0, arity: 1,
      parse: ([s]: string[]) => {
        const f = parseNotifyFlags(s ?? '');
        if (f === null) throw new ConfigError('Invalid event class character. Use \'Ag$lshzxeKEtmdn\'.');
        return f;
      },
      format: (v: number) => formatNotifyFlags(v),
    },
    memoryDirective('maxmemory', 0, 0, LLONG_MAX),
    enumDirective('maxmemory-policy', 'noeviction',
      ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction']),
    intDirective('maxmemory-samples', 5, 1, INT_MAX),
    boolDirective('lazyfree-lazy-user-flush', false),
    boolDirective('lazyfree-lazy-user-del', false),
    boolDirective('lazyfree-lazy-expire', false),
    boolDirective('lazyfree-lazy-server-del', false),
    boolDirective('lazyfree-lazy-eviction', false),
    intDirective('io-threads', 1, 1, 128, false),
    enumDirective('enable-debug-command', 'no', ['no', 'yes', 'local'], false),
    enumDirective('enable-protected-configs', 'no', ['no', 'yes', 'local'], false),
    intDirective('lfu-log-factor', 10, 0, INT_MAX),
    intDirective('lfu-decay-time', 1, 0, INT_MAX),
  ];
}
