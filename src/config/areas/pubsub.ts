import { ConfigError, parseMemory, intDirective, type Directive } from '../directives.js';

/** One class of client-output-buffer-limit: bytes, bytes, seconds (0 = no limit). */
export interface OutputBufferClassLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

/** client-output-buffer-limit by client class (Redis: normal, replica/slave, pubsub). */
export interface OutputBufferLimits {
  normal: OutputBufferClassLimit;
  replica: OutputBufferClassLimit;
  pubsub: OutputBufferClassLimit;
}

const DEFAULT_LIMITS: OutputBufferLimits = {
  normal: { hard: 0, soft: 0, softSeconds: 0 },
  replica: { hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60 },
  pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60 },
};

/**
 * `client-output-buffer-limit <class> <hard> <soft> <soft seconds> [...]` as Redis 7.0 parses it
 * (config.c): several classes may be given at once; only those given change; CONFIG GET prints all
 * three in bytes as `normal 0 0 0 slave ... pubsub ...`.
 */
const clientOutputBufferLimit: Directive = {
  name: 'client-output-buffer-limit',
  mutable: true,
  default: DEFAULT_LIMITS,
  arity: -1,
  parse(args: string[]): OutputBufferLimits {
    if (args.length === 1) args = args[0]!.split(/\s+/).filter(Boolean);
    if (args.length % 4 !== 0 || args.length === 0) throw new ConfigError('Wrong number of arguments in buffer limit configuration.');
    const out: OutputBufferLimits = currentLimits ? structuredClone(currentLimits) : structuredClone(DEFAULT_LIMITS);
    for (let i = 0; i < args.length; i += 4) {
      const cls = args[i]!.toLowerCase();
      const key = cls === 'normal' ? 'normal' : cls === 'slave' || cls === 'replica' ? 'replica' : cls === 'pubsub' ? 'pubsub' : null;
      if (key === null) throw new ConfigError('Invalid client class specified in buffer limit configuration.');
      const hard = parseMemory(args[i + 1]!);
      const soft = parseMemory(args[i + 2]!);
      const secs = /^\d+$/.test(args[i + 3]!) ? Number(args[i + 3]) : null;
      if (hard === null || soft === null || secs === null || hard < 0 || soft < 0) {
        throw new ConfigError('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
      }
      out[key] = { hard, soft, softSeconds: secs };
    }
    return out;
  },
  format(v: OutputBufferLimits): string {
    const f = (c: OutputBufferClassLimit): string => `${c.hard} ${c.soft} ${c.softSeconds}`;
    return `normal ${f(v.normal)} slave ${f(v.replica)} pubsub ${f(v.pubsub)}`;
  },
  apply(v: OutputBufferLimits) {
    currentLimits = v;
  },
};

// Partial updates start from the live value; the directive's apply hook keeps it.
let currentLimits: OutputBufferLimits | null = null;

/** Configuration directives owned by the pubsub layer (registered in config/table.ts). */
export const pubsubDirectives: Directive[] = [
  clientOutputBufferLimit,
  // client-side caching delivers its invalidations over push frames and pub/sub
  // LONG_MAX as Redis (its error text names that bound); a limit past 2^53 keys means none
  intDirective('tracking-table-max-keys', 1000000, 0, (1n << 63n) - 1n),
];
