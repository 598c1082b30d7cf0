/**
 * The configuration directive table: one entry per directive serves the config file, the command
 * line, CONFIG GET, CONFIG SET and CONFIG REWRITE. Types, defaults, bounds and error texts follow
 * Redis 7.0's standardConfig table (src/config.c).
 */

/** Why a value was refused; the text Redis puts after "argument" errors. */
export class ConfigError extends Error {}

export interface DirectiveBase<T> {
  /** canonical lower-case name */
  name: string;
  /** other accepted names (e.g. the old `*-ziplist-*` names) */
  aliases?: string[];
  /** false: only at start-up ("can't set immutable config") */
  mutable: boolean;
  default: T;
  /** parse one or more words into a value; throws ConfigError with Redis's reason */
  parse(args: string[]): T;
  /** format for CONFIG GET and CONFIG REWRITE */
  format(v: T): string;
  /** number of words a config-file line takes after the name (-1: any, at least one) */
  arity?: number;
  /**
   * Called after the value changes at run time (CONFIG SET) or at start; may throw ConfigError to
   * refuse (the change is then rolled back).
   */
  apply?: (v: T, old: T) => void;
  /** CONFIG REWRITE: when true, the directive is written only when it differs from the default */
  hidden?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the table holds directives of many value types
export type Directive = DirectiveBase<any>;

/** yes/no, as yesnotoi. */
export function boolDirective(name: string, def: boolean, mutable = true, extra: Partial<DirectiveBase<boolean>> = {}): DirectiveBase<boolean> {
  return {
    name, mutable, default: def, arity: 1,
    parse([s]) {
      const v = (s ?? '').toLowerCase();
      if (v === 'yes') return true;
      if (v === 'no') return false;
      throw new ConfigError("argument must be 'yes' or 'no'");
    },
    format: (v) => (v ? 'yes' : 'no'),
    ...extra,
  };
}

/** A plain integer with inclusive bounds. */
export function intDirective(name: string, def: number, min: number, max: number, mutable = true, extra: Partial<DirectiveBase<number>> = {}): DirectiveBase<number> {
  return {
    name, mutable, default: def, arity: 1,
    parse([s]) {
      const v = parseStrictInt(s ?? '');
      if (v === null) throw new ConfigError("argument couldn't be parsed into an integer");
      if (v < min || v > max) throw new ConfigError(`argument must be between ${min} and ${max} inclusive`);
      return v;
    },
    format: (v) => String(v),
    ...extra,
  };
}

/** A size in bytes accepting Redis's memory units (memtoull): b, k, kb, m, mb, g, gb. */
export function memoryDirective(name: string, def: number, min: number, max: number, mutable = true, extra: Partial<DirectiveBase<number>> = {}): DirectiveBase<number> {
  return {
    name, mutable, default: def, arity: 1,
    parse([s]) {
      const v = parseMemory(s ?? '');
      if (v === null) throw new ConfigError('argument must be a memory value');
      if (v < min || v > max) throw new ConfigError(`argument must be between ${min} and ${max} inclusive`);
      return v;
    },
    format: (v) => String(v),
    ...extra,
  };
}

/** One of a fixed set of names (case-insensitive). */
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

/** A free string. */
export function stringDirective(name: string, def: string, mutable = true, extra: Partial<DirectiveBase<string>> = {}): DirectiveBase<string> {
  return { name, mutable, default: def, arity: 1, parse: ([s]) => s ?? '', format: (v) => v, ...extra };
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
 * Negative values are accepted where Redis accepts them (a leading '-' for signed directives).
 * @returns bytes, or null when not a memory value
 */
export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const mul: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  const v = Number(m[1]) * mul[(m[2] ?? '').toLowerCase()]!;
  return Number.isSafeInteger(v) ? v : null;
}
