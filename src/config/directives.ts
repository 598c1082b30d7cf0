/**
 * The configuration directive table: one entry per directive serves the config file, the command
 * line, CONFIG GET, CONFIG SET and CONFIG REWRITE. Types, defaults, bounds and error texts follow
 * Redis 7.0.15's standardConfig table (src/config.c).
 */

/** Why a value was refused; the text Redis puts after "argument" errors. */
export class ConfigError extends Error {}

/** How a directive is being set, for the few directives whose parsing depends on it. */
export interface ParseContext {
  /** true while reading the config file and the command line (Redis's reading_config_file) */
  startup: boolean;
  /** true when this directive was already set earlier during the same start-up */
  repeated: boolean;
}

/** One line CONFIG REWRITE wants in the file, and whether it must be written when absent. */
export interface RewriteLine {
  line: string;
  /** write the line even when the file has no line for this directive (value != default) */
  force: boolean;
}

export interface DirectiveBase<T> {
  /** canonical lower-case name */
  name: string;
  /** other accepted names (e.g. the old `*-ziplist-*` names); CONFIG GET lists them too */
  aliases?: string[];
  /** false: only at start-up ("can't set immutable config") */
  mutable: boolean;
  default: T;
  /**
   * Parses the words of a config line (or of a CONFIG SET value, split on spaces for multi-word
   * directives) into a value; throws ConfigError with Redis's reason. `old` is the current value
   * (directives that update part of their value start from it).
   */
  parse(args: string[], old: T, ctx: ParseContext): T;
  /** format for CONFIG GET */
  format(v: T): string;
  /**
   * Number of words a config-file line takes after the name: 1 (the default) or -1 for Redis's
   * MULTI_ARG_CONFIG directives (any number, validated by parse; CONFIG SET splits the value on
   * spaces).
   */
  arity?: number;
  /**
   * Called after the value changes at run time (CONFIG SET); may throw ConfigError (or any Error)
   * to refuse, and CONFIG SET then restores every value it changed. Not called at start-up: the
   * layers read their settings when they initialize.
   */
  apply?: (v: T, old: T) => void;
  /** HIDDEN_CONFIG: CONFIG GET shows it only when asked by its exact name, never for a pattern */
  hidden?: boolean;
  /** PROTECTED_CONFIG: CONFIG SET needs enable-protected-configs (dir, dbfilename) */
  protected?: boolean;
  /** DENY_LOADING_CONFIG: CONFIG SET answers -LOADING while the dataset loads */
  denyLoading?: boolean;
  /** SENSITIVE_CONFIG: the value is a secret (requirepass, masterauth) */
  sensitive?: boolean;
  /**
   * CONFIG REWRITE lines for the formatted value (default: `name value`, forced when the value
   * differs from the default). An empty array removes the directive's lines from the file.
   */
  rewrite?: (formatted: string, d: DirectiveBase<T>) => RewriteLine[];
  /**
   * For numeric directives: the exact decimal text of the value the words give, when the value is
   * beyond 2^53 and a JS number cannot hold it exactly (CONFIG GET must print it exactly).
   */
  exact?: (args: string[]) => string | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the table holds directives of many value types
export type Directive = DirectiveBase<any>;

/** yes/no, as yesnotoi. */
export function boolDirective(name: string, def: boolean, mutable = true, extra: Partial<DirectiveBase<boolean>> = {}): DirectiveBase<boolean> {
  return {
    name, mutable, default: def, arity: 1,
    parse([s]) {
      const v = parseYesNo(s ?? '');
      if (v === null) throw new ConfigError("argument must be 'yes' or 'no'");
      return v;
    },
    format: (v) => (v ? 'yes' : 'no'),
    ...extra,
  };
}

/** yesnotoi: true, false or null. */
export function parseYesNo(s: string): boolean | null {
  const v = s.toLowerCase();
  return v === 'yes' ? true : v === 'no' ? false : null;
}

/** Redis's numeric config flavours (numericConfigData.flags in config.c). */
export type NumericKind = 'int' | 'memory' | 'memory-percent' | 'octal';

/** Options of {@link numericDirective}. */
export interface NumericOptions {
  kind?: NumericKind;
  /** C type is unsigned (unsigned int, size_t, unsigned long long): bounds compare unsigned */
  unsigned?: boolean;
  mutable?: boolean;
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/**
 * A numeric directive as Redis's numericConfigSet: parse (memtoull for memory values, `N%` for
 * percentages, strtoll base 8 for octal, string2ll otherwise), then the bounds check with Redis's
 * messages. Values are JS numbers (a percentage is stored negative, as Redis stores it); CONFIG GET
 * prints values beyond 2^53 exactly through {@link DirectiveBase.exact}.
 */
export function numericDirective(
  name: string, def: number, min: number | bigint, max: number | bigint,
  opts: NumericOptions = {}, extra: Partial<DirectiveBase<number>> = {},
): DirectiveBase<number> {
  const kind = opts.kind ?? 'int';
  const lo = BigInt(min);
  const hi = BigInt(max);
  const unsigned = opts.unsigned ?? false;
  const parseBig = (s: string): bigint => {
    const ll = parseNumericWords(s, kind);
    checkBounds(ll, lo, hi, unsigned, kind);
    return unsigned ? BigInt.asUintN(64, ll) : ll;
  };
  const show = (v: bigint): string => {
    if (kind === 'memory-percent' && v < 0n) return `${-v}%`;
    if (kind === 'memory') return BigInt.asUintN(64, v).toString();
    if (kind === 'octal') return v.toString(8);
    return v.toString();
  };
  return {
    name, mutable: opts.mutable ?? true, default: def, arity: 1,
    parse([s]) {
      return Number(parseBig(s ?? ''));
    },
    format: (v) => show(BigInt(v)),
    exact([s]) {
      const v = parseBig(s ?? '');
      return v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? show(v) : undefined;
    },
    rewrite(formatted, d) {
      const def = d.format(d.default);
      if (kind === 'memory-percent' && formatted.endsWith('%')) {
        return [{ line: `${d.name} ${formatted}`, force: formatted !== def }];
      }
      if (kind === 'memory' || kind === 'memory-percent') {
        return [{ line: `${d.name} ${formatMemoryForRewrite(BigInt.asIntN(64, BigInt(formatted)))}`, force: formatted !== def }];
      }
      return [{ line: `${d.name} ${formatted}`, force: formatted !== def }];
    },
    ...extra,
  };
}

/** Parses the words of a numeric value; returns it as Redis's `long long` (two's complement). */
function parseNumericWords(s: string, kind: NumericKind): bigint {
  if (kind === 'memory' || kind === 'memory-percent') {
    const m = memtoull(s);
    if (m !== null) return BigInt.asIntN(64, m);
  }
  if (kind === 'memory-percent' && s.length > 1 && s.endsWith('%')) {
    const p = string2ll(s.slice(0, -1));
    if (p !== null && p >= 0n) return -p;
  }
  if (kind === 'octal') {
    const o = strtollOctal(s);
    if (o !== null) return o;
  }
  if (kind === 'int') {
    const v = string2ll(s);
    if (v !== null) return v;
  }
  throw new ConfigError(
    kind === 'memory-percent' ? 'argument must be a memory or percent value'
      : kind === 'memory' ? 'argument must be a memory value'
        : kind === 'octal' ? "argument couldn't be parsed as an octal number"
          : "argument couldn't be parsed into an integer",
  );
}

/** numericBoundaryCheck in config.c. */
function checkBounds(ll: bigint, lo: bigint, hi: bigint, unsigned: boolean, kind: NumericKind): void {
  if (unsigned) {
    const ull = BigInt.asUintN(64, ll);
    const ulo = BigInt.asUintN(64, lo);
    const uhi = BigInt.asUintN(64, hi);
    if (ull > uhi || ull < ulo) {
      const f = (x: bigint): string => (kind === 'octal' ? x.toString(8) : x.toString());
      throw new ConfigError(`argument must be between ${f(ulo)} and ${f(uhi)} inclusive`);
    }
    return;
  }
  if (kind === 'memory-percent' && ll < 0n) {
    if (ll < lo) throw new ConfigError(`percentage argument must be less or equal to ${-lo}`);
    return;
  }
  if (ll > hi || ll < lo) throw new ConfigError(`argument must be between ${lo} and ${hi} inclusive`);
}

/** string2ll (src/util.c): strict decimal, no spaces, no '+', no leading zeros, int64 range. */
export function string2ll(s: string): bigint | null {
  if (!/^(-?[1-9][0-9]*|0)$/.test(s) || s.length > 20) return null;
  const v = BigInt(s);
  return v < I64_MIN || v > I64_MAX ? null : v;
}

/**
 * memtoull (src/util.c) of Redis 7.0: digits then an optional unit (b, k, kb, m, mb, g, gb; any
 * case). Like the C code, an empty number is 0, an overflowing number saturates (strtoull) and the
 * product wraps modulo 2^64.
 * @returns the value as an unsigned 64-bit bigint, or null for a malformed value
 */
export function memtoull(s: string): bigint | null {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const unit = s.slice(i).toLowerCase();
  const mul = MEMORY_UNITS[unit];
  if (mul === undefined || i >= 128) return null;
  let v = i === 0 ? 0n : BigInt(s.slice(0, i));
  if (v > U64_MAX) v = U64_MAX;
  return BigInt.asUintN(64, v * mul);
}

const MEMORY_UNITS: Record<string, bigint> = {
  '': 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n * 1000n, mb: 1024n * 1024n, g: 1000n * 1000n * 1000n, gb: 1024n * 1024n * 1024n,
};

/** strtoll(s, &end, 8) with `errno == 0 && *end == '\0'`, as Redis parses octal configs. */
function strtollOctal(s: string): bigint | null {
  if (s === '') return 0n;
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-7]+)$/.exec(s);
  if (!m) return null;
  let v = BigInt('0o' + m[2]!);
  if (m[1] === '-') v = -v;
  return v < I64_MIN || v > I64_MAX ? null : v;
}

/** rewriteConfigFormatMemory: the largest of gb, mb, kb that divides the value exactly. */
export function formatMemoryForRewrite(bytes: bigint): string {
  const gb = 1024n * 1024n * 1024n;
  const mb = 1024n * 1024n;
  const kb = 1024n;
  if (bytes !== 0n && bytes % gb === 0n) return `${bytes / gb}gb`;
  if (bytes !== 0n && bytes % mb === 0n) return `${bytes / mb}mb`;
  if (bytes !== 0n && bytes % kb === 0n) return `${bytes / kb}kb`;
  return bytes.toString();
}

/** A plain integer with inclusive bounds (Redis's INTEGER_CONFIG numeric types, signed). */
export function intDirective(name: string, def: number, min: number | bigint, max: number | bigint, mutable = true, extra: Partial<DirectiveBase<number>> = {}): DirectiveBase<number> {
  return numericDirective(name, def, min, max, { kind: 'int', mutable }, extra);
}

/** A size in bytes accepting Redis's memory units (memtoull): b, k, kb, m, mb, g, gb. */
export function memoryDirective(name: string, def: number, min: number | bigint, max: number | bigint, mutable = true, extra: Partial<DirectiveBase<number>> = {}): DirectiveBase<number> {
  return numericDirective(name, def, min, max, { kind: 'memory', mutable }, extra);
}

/** One of a fixed set of names (case-insensitive), as Redis's enum configs. */
export function enumDirective(name: string, def: string, values: string[], mutable = true, extra: Partial<DirectiveBase<string>> = {}): DirectiveBase<string> {
  return {
    name, mutable, default: def, arity: 1,
    parse([s]) {
      const v = (s ?? '').toLowerCase();
      if (!values.includes(v)) throw new ConfigError(`argument(s) must be one of the following: ${values.join(', ')}`);
      return v;
    },
    format: (v) => v,
    ...extra,
  };
}

/** Options of {@link stringDirective}. */
export interface StringOptions {
  /** EMPTY_STRING_IS_NULL: '' means unset, and CONFIG REWRITE removes the directive's lines */
  emptyIsNull?: boolean;
}

/**
 * A free string (Redis's string and sds configs). CONFIG REWRITE writes it quoted as sdscatrepr
 * does, forced when it differs from the default.
 */
export function stringDirective(name: string, def: string, mutable = true, extra: Partial<DirectiveBase<string>> & StringOptions = {}): DirectiveBase<string> {
  const { emptyIsNull, ...rest } = extra;
  return {
    name, mutable, default: def, arity: 1,
    parse: ([s]) => s ?? '',
    format: (v) => v,
    rewrite(formatted, d) {
      if (emptyIsNull && formatted === '') return [];
      return [{ line: `${d.name} ${reprArg(formatted)}`, force: formatted !== d.format(d.default) }];
    },
    ...rest,
  };
}

/**
 * sdscatrepr (src/sds.c): the string in double quotes with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`,
 * `\b` escaped and other non-printable bytes as `\xHH`, so that sdssplitargs reads it back.
 */
export function reprArg(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c: out += '\\\\'; break;
      case 0x22: out += '\\"'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      default:
        out += c >= 0x20 && c <= 0x7e ? s[i] : '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return out + '"';
}

/** Integer with string2ll's rules (no spaces, no '+'), within JS-safe range. */
export function parseStrictInt(s: string): number | null {
  if (!/^-?(0|[1-9]\d*)$/.test(s)) return null;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : null;
}

/**
 * Parses a memory value as Redis's memtoull (src/util.c): a non-negative integer with an
 * optional unit; `k`=1000, `kb`=1024, `m`=1e6, `mb`=1024^2, `g`=1e9, `gb`=1024^3, case-insensitive.
 * A leading '-' is accepted here for callers with signed values (Redis's memtoll).
 * @returns bytes, or null when not a memory value or beyond 2^53
 */
export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const mul: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  const v = Number(m[1]) * mul[(m[2] ?? '').toLowerCase()]!;
  return Number.isSafeInteger(v) ? v : null;
}
