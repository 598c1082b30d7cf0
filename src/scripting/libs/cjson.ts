/**
 * Lua CJSON 2.1.0, the `cjson` library Redis builds into its Lua (deps/lua/src/lua_cjson.c with
 * strbuf.c and fpconv.c): cjson.encode and cjson.decode, their settings, cjson.new and cjson.null.
 *
 * As in the C library, each module table's functions share one configuration, held as their
 * upvalue in a userdata laid out like json_config_t's settings (so cjson.new() tables have their
 * own). Encoding and decoding walk the data with explicit stacks instead of C recursion: the
 * Lua stack operations, and so the depth limits and "stack overflow" errors, are the C's.
 *
 * Numbers are printed as glibc's "%.14g" prints them (the precision is settable), rounding the
 * exact binary value half to even; decoding reads numbers as glibc's strtod does (hexadecimal,
 * inf and nan included, since Redis keeps decode_invalid_numbers on).
 */
import { ByteBuffer } from './bytes.js';
import {
  LuaVM,
  LUA_GLOBALSINDEX,
  LUA_TBOOLEAN,
  LUA_TLIGHTUSERDATA,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaState,
} from '../lua.js';

// ---- configuration: json_config_t's settings, one int32 each, in a userdata ----
const CFG_SPARSE_CONVERT = 0;
const CFG_SPARSE_RATIO = 4;
const CFG_SPARSE_SAFE = 8;
const CFG_ENCODE_MAX_DEPTH = 12;
const CFG_ENCODE_INVALID_NUMBERS = 16;
const CFG_ENCODE_NUMBER_PRECISION = 20;
const CFG_ENCODE_KEEP_BUFFER = 24;
const CFG_DECODE_INVALID_NUMBERS = 28;
const CFG_DECODE_MAX_DEPTH = 32;
const CFG_BYTES = 36;
const INT_MAX = 2147483647;

/** lua_typename for lua_type's results (index + 1: LUA_TNONE is -1). */
const TYPE_NAMES = ['no value', 'nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];

function typeName(t: number): string {
  return TYPE_NAMES[t + 1] ?? '?';
}

// ---- tokens (json_token_type_t) ----
const T_OBJ_BEGIN = 0;
const T_OBJ_END = 1;
const T_ARR_BEGIN = 2;
const T_ARR_END = 3;
const T_STRING = 4;
const T_NUMBER = 5;
const T_BOOLEAN = 6;
const T_NULL = 7;
const T_COLON = 8;
const T_COMMA = 9;
const T_END = 10;
const T_WHITESPACE = 11;
const T_ERROR = 12;
const T_UNKNOWN = 13;
const TOKEN_NAMES = ['T_OBJ_BEGIN', 'T_OBJ_END', 'T_ARR_BEGIN', 'T_ARR_END', 'T_STRING', 'T_NUMBER', 'T_BOOLEAN', 'T_NULL', 'T_COLON', 'T_COMMA', 'T_END', 'T_WHITESPACE', 'T_ERROR', 'T_UNKNOWN'];

/** json_create_config's ch2token: the token each byte starts. */
const CH2TOKEN = (() => {
  const t = new Uint8Array(256).fill(T_ERROR);
  t[0x7b] = T_OBJ_BEGIN;
  t[0x7d] = T_OBJ_END;
  t[0x5b] = T_ARR_BEGIN;
  t[0x5d] = T_ARR_END;
  t[0x2c] = T_COMMA;
  t[0x3a] = T_COLON;
  t[0] = T_END;
  for (const c of ' \t\n\r') t[c.charCodeAt(0)] = T_WHITESPACE;
  for (const c of 'fiInNt"+-0123456789') t[c.charCodeAt(0)] = T_UNKNOWN;
  return t;
})();

/** json_create_config's escape2char: what `\x` decodes to ('u': a \uXXXX escape; '': invalid). */
const ESCAPE2CHAR = (() => {
  const t: string[] = new Array<string>(256).fill('');
  t[0x22] = '"';
  t[0x5c] = '\\';
  t[0x2f] = '/';
  t[0x62] = '\b';
  t[0x74] = '\t';
  t[0x6e] = '\n';
  t[0x66] = '\f';
  t[0x72] = '\r';
  t[0x75] = 'u';
  return t;
})();

/** lua_cjson.c char2escape: the escape of each byte that needs one (control bytes, ", /, \ and DEL). */
const CHAR2ESCAPE = (() => {
  const t: Array<string | null> = new Array<string | null>(256).fill(null);
  for (let i = 0; i < 32; i++) t[i] = '\\u' + i.toString(16).padStart(4, '0');
  t[8] = '\\b';
  t[9] = '\\t';
  t[10] = '\\n';
  t[12] = '\\f';
  t[13] = '\\r';
  t[0x22] = '\\"';
  t[0x2f] = '\\/';
  t[0x5c] = '\\\\';
  t[0x7f] = '\\u007f';
  return t;
})();
const NEEDS_ESCAPE = Uint8Array.from(CHAR2ESCAPE, (e) => (e === null ? 0 : 1));

// ---- number formatting: printf's "%.<prec>g" ----
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** How many significant digits the exact decimal expansion of the finite positive double `a` has. */
function exactDigitCount(a: number): number {
  f64[0] = a;
  const lo = u32[0]!;
  const hi = u32[1]!;
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2 = -1074;
  if (bexp > 0) {
    m |= 1n << 52n;
    e2 = bexp - 1075;
  }
  // m * 2^e2 exactly; for e2 < 0 that is m * 5^-e2 / 10^-e2, whose digits are those of m * 5^-e2
  const digits = e2 >= 0 ? (m << BigInt(e2)).toString() : (m * 5n ** BigInt(-e2)).toString();
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 0x30) end--;
  return end;
}

function stripZeros(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x30) end--;
  return s.slice(0, end);
}

/**
 * printf("%.<prec>g", x) as glibc prints it (fpconv.c fpconv_g_fmt): `prec` significant digits,
 * rounded from the exact binary value half to even, trailing zeros removed, exponent form below
 * 1e-4 or from 10^prec, "inf"/"-inf", "-0".
 */
export function formatG(x: number, prec: number): string {
  if (x === 0) return 1 / x < 0 ? '-0' : '0';
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const neg = x < 0;
  const a = neg ? -x : x;
  if (prec <= 15 && a < POW10[prec]! && Number.isInteger(a)) return neg ? '-' + String(a) : String(a);
  let s = a.toExponential(prec - 1);
  // toExponential breaks a tie upward; printf rounds the exact value half to even, so a tie (the
  // exact expansion stops right after a 5 one digit further) whose kept digit is even goes down.
  // A tie is N * 10^j with N of at most 15 digits: an integer, or (N divisible by 5^-j, and
  // 5^22 > 10^15) a multiple of 2^-21; other values skip the check.
  if (Number.isInteger(a) || Number.isInteger(a * 2097152)) {
    const longer = a.toExponential(prec);
    const le = longer.indexOf('e');
    if (longer.charCodeAt(le - 1) === 0x35 && exactDigitCount(a) <= prec + 1) {
      const kept = longer.charCodeAt(le - 2);
      if (kept !== 0x2e && (kept & 1) === 0) s = longer.slice(0, le - 1) + longer.slice(le);
      else if (kept === 0x2e && (longer.charCodeAt(0) & 1) === 0) s = longer.slice(0, 1) + longer.slice(le);
    }
  }
  const e = s.indexOf('e');
  const exp = Number(s.slice(e + 1));
  const digits = e > 1 ? s[0]! + s.slice(2, e) : s.slice(0, e);
  let out: string;
  if (exp < -4 || exp >= prec) {
    const d = stripZeros(digits);
    const ax = exp < 0 ? -exp : exp;
    out = d[0]! + (d.length > 1 ? '.' + d.slice(1) : '') + (exp < 0 ? 'e-' : 'e+') + (ax < 10 ? '0' : '') + String(ax);
  } else if (exp >= 0) {
    const frac = stripZeros(digits.slice(exp + 1));
    out = digits.slice(0, exp + 1) + (frac ? '.' + frac : '');
  } else {
    out = '0.' + '0'.repeat(-exp - 1) + stripZeros(digits);
  }
  return neg ? '-' + out : out;
}

// ---- number parsing: glibc's strtod ----
const NEG_NAN = (() => {
  const d = new DataView(new ArrayBuffer(8));
  d.setUint32(0, 0xfff80000);
  return d.getFloat64(0);
})();

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** x * 2^e without overflowing or underflowing on the way. */
function ldexp(x: number, e: number): number {
  // |e| is clamped by the caller, so these run a handful of times at most
  for (let i = 0; i < 8 && e > 1000; i++) {
    x *= 2 ** 1000;
    e -= 1000;
  }
  for (let i = 0; i < 8 && e < -1000; i++) {
    x *= 2 ** -1000;
    e += 1000;
  }
  return x * 2 ** e;
}

/** The JSON text being decoded; charCodeAt past its end reads as C's terminating NUL. */
class Parser {
  d = '';
  n = 0;
  p = 0;
  depth = 0;
  maxDepth = 1000;
  invalidNumbers = true;
  // the current token (json_token_t)
  type = T_END;
  index = 0;
  /** a string token: its text when it had escapes, else the offsets of its bytes in the input */
  str = '';
  strFrom = -1;
  strTo = 0;
  num = 0;
  bool = false;
  err = '';
  /** strtod's result */
  value = 0;

  at(i: number): number {
    return i < this.n ? this.d.charCodeAt(i) : 0;
  }

  /** strncasecmp(&d[i], word, word.length) === 0 for a lower-case word */
  matchCI(i: number, word: string): boolean {
    for (let k = 0; k < word.length; k++) if ((this.at(i + k) | 0x20) !== word.charCodeAt(k)) return false;
    return true;
  }

  /**
   * glibc strtod from `start`: sets {@link value} and returns the end of the number, or `start`
   * when there is none (the callers start at a sign, a digit or a letter, never at a space).
   */
  strtod(start: number): number {
    let i = start;
    let neg = false;
    let c = this.at(i);
    if (c === 0x2b || c === 0x2d) {
      neg = c === 0x2d;
      c = this.at(++i);
    }
    if ((c | 0x20) === 0x69) {
      if (!this.matchCI(i, 'inf')) return start;
      i += 3;
      if (this.matchCI(i, 'inity')) i += 5;
      this.value = neg ? -Infinity : Infinity;
      return i;
    }
    if ((c | 0x20) === 0x6e) {
      if (!this.matchCI(i, 'nan')) return start;
      i += 3;
      if (this.at(i) === 0x28) {
        let j = i + 1;
        for (let ch = this.at(j); isDigit(ch) || ((ch | 0x20) >= 0x61 && (ch | 0x20) <= 0x7a) || ch === 0x5f; ch = this.at(++j));
        if (this.at(j) === 0x29) i = j + 1;
      }
      this.value = neg ? NEG_NAN : NaN;
      return i;
    }
    if (c === 0x30 && (this.at(i + 1) | 0x20) === 0x78) {
      const h = i + 2;
      if (hexValue(this.at(h)) >= 0 || (this.at(h) === 0x2e && hexValue(this.at(h + 1)) >= 0)) return this.hexFloat(h, neg);
    }
    const from = i;
    let digits = 0;
    while (isDigit(this.at(i))) {
      i++;
      digits++;
    }
    if (this.at(i) === 0x2e) {
      i++;
      while (isDigit(this.at(i))) {
        i++;
        digits++;
      }
    }
    if (digits === 0) return start;
    if ((this.at(i) | 0x20) === 0x65) {
      let j = i + 1;
      if (this.at(j) === 0x2b || this.at(j) === 0x2d) j++;
      if (isDigit(this.at(j))) {
        while (isDigit(this.at(j))) j++;
        i = j;
      }
    }
    // JS parses a decimal number correctly rounded, as glibc does
    const v = Number(this.d.slice(from, i));
    this.value = neg ? -v : v;
    return i;
  }

  /**
   * The hexadecimal form of strtod ("0x1.8p3") from the first digit at `i`. The first 16
   * significant digits are kept with a sticky bit for the rest, so the rounding is exact except
   * for results in the subnormal range (rounded twice there).
   */
  hexFloat(i: number, neg: boolean): number {
    let m = 0n;
    let kept = 0;
    let sticky = false;
    let e = 0;
    for (let h = hexValue(this.at(i)); h >= 0; h = hexValue(this.at(++i))) {
      if (kept < 16) {
        m = (m << 4n) | BigInt(h);
        if (m !== 0n) kept++;
      } else {
        e += 4;
        if (h) sticky = true;
      }
    }
    if (this.at(i) === 0x2e) {
      for (let h = hexValue(this.at(++i)); h >= 0; h = hexValue(this.at(++i))) {
        if (kept < 16) {
          m = (m << 4n) | BigInt(h);
          e -= 4;
          if (m !== 0n) kept++;
        } else if (h) sticky = true;
      }
    }
    if ((this.at(i) | 0x20) === 0x70) {
      let j = i + 1;
      let eneg = false;
      if (this.at(j) === 0x2b || this.at(j) === 0x2d) eneg = this.at(j++) === 0x2d;
      if (isDigit(this.at(j))) {
        let x = 0;
        for (; isDigit(this.at(j)); j++) if (x < 100000) x = x * 10 + this.at(j) - 0x30;
        e += eneg ? -x : x;
        i = j;
      }
    }
    m = (m << 1n) | (sticky ? 1n : 0n);
    const v = m === 0n ? 0 : ldexp(Number(m), e - 1);
    this.value = neg ? -v : v;
    return i;
  }

  setError(msg: string): void {
    this.type = T_ERROR;
    this.index = this.p;
    this.err = msg;
  }

  /** lua_cjson.c json_is_invalid_number: forms strtod takes but strict JSON refuses. */
  isInvalidNumber(): boolean {
    let p = this.p;
    const c = this.at(p);
    if (c === 0x2b) return true;
    if (c === 0x2d) p++;
    const d = this.at(p);
    if (d === 0x30) {
      const c2 = this.at(p + 1);
      return (c2 | 0x20) === 0x78 || isDigit(c2);
    }
    if (d <= 0x39) return false;
    return this.matchCI(p, 'inf') || this.matchCI(p, 'nan');
  }

  numberToken(): void {
    this.type = T_NUMBER;
    const end = this.strtod(this.p);
    if (end === this.p) this.setError('invalid number');
    else {
      this.num = this.value;
      this.p = end;
    }
  }

  /** lua_cjson.c json_append_unicode_escape at the backslash: false when the escape is invalid. */
  unicodeEscape(parts: string[]): boolean {
    const p = this.p;
    let cp = this.hex4(p + 2);
    if (cp < 0) return false;
    let len = 6;
    if ((cp & 0xf800) === 0xd800) {
      if (cp & 0x400) return false;
      if (this.at(p + 6) !== 0x5c || this.at(p + 7) !== 0x75) return false;
      const low = this.hex4(p + 8);
      if (low < 0 || (low & 0xfc00) !== 0xdc00) return false;
      cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      len = 12;
    }
    // the UTF-8 bytes, one latin1 char each
    if (cp <= 0x7f) parts.push(String.fromCharCode(cp));
    else if (cp <= 0x7ff) parts.push(String.fromCharCode((cp >> 6) | 0xc0, (cp & 0x3f) | 0x80));
    else if (cp <= 0xffff) parts.push(String.fromCharCode((cp >> 12) | 0xe0, ((cp >> 6) & 0x3f) | 0x80, (cp & 0x3f) | 0x80));
    else parts.push(String.fromCharCode((cp >> 18) | 0xf0, ((cp >> 12) & 0x3f) | 0x80, ((cp >> 6) & 0x3f) | 0x80, (cp & 0x3f) | 0x80));
    this.p = p + len;
    return true;
  }

  hex4(i: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const h = hexValue(this.at(i + k));
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    return v;
  }

  /** lua_cjson.c json_next_string_token, from the opening quote. */
  stringToken(): void {
    this.p++;
    let run = this.p;
    let parts: string[] | null = null;
    // each turn advances p; the NUL at the end (or one inside) stops it
    for (;;) {
      const ch = this.at(this.p);
      if (ch === 0x22) break;
      if (ch === 0) {
        this.setError('unexpected end of string');
        return;
      }
      if (ch === 0x5c) {
        parts ??= [];
        if (this.p > run) parts.push(this.d.slice(run, this.p));
        const esc = ESCAPE2CHAR[this.at(this.p + 1)]!;
        if (esc === 'u') {
          if (!this.unicodeEscape(parts)) {
            this.setError('invalid unicode escape code');
            return;
          }
        } else if (esc === '') {
          this.setError('invalid escape code');
          return;
        } else {
          parts.push(esc);
          this.p += 2;
        }
        run = this.p;
        continue;
      }
      this.p++;
    }
    if (parts === null) {
      this.strFrom = run;
      this.strTo = this.p;
    } else {
      if (this.p > run) parts.push(this.d.slice(run, this.p));
      this.str = parts.join('');
      this.strFrom = -1;
    }
    this.p++;
    this.type = T_STRING;
  }

  /** lua_cjson.c json_next_token; returns the token's type. */
  next(): number {
    this.scan();
    return this.type;
  }

  private scan(): void {
    let ch = this.at(this.p);
    let type = CH2TOKEN[ch]!;
    while (type === T_WHITESPACE) {
      ch = this.at(++this.p);
      type = CH2TOKEN[ch]!;
    }
    this.index = this.p;
    if (type === T_ERROR) {
      this.setError('invalid token');
      return;
    }
    this.type = type;
    if (type === T_END) return;
    if (type !== T_UNKNOWN) {
      this.p++;
      return;
    }
    if (ch === 0x22) {
      this.stringToken();
      return;
    }
    if (ch === 0x2d || isDigit(ch)) {
      if (!this.invalidNumbers && this.isInvalidNumber()) this.setError('invalid number');
      else this.numberToken();
      return;
    }
    if (this.d.startsWith('true', this.p)) {
      this.type = T_BOOLEAN;
      this.bool = true;
      this.p += 4;
      return;
    }
    if (this.d.startsWith('false', this.p)) {
      this.type = T_BOOLEAN;
      this.bool = false;
      this.p += 5;
      return;
    }
    if (this.d.startsWith('null', this.p)) {
      this.type = T_NULL;
      this.p += 4;
      return;
    }
    if (this.invalidNumbers && this.isInvalidNumber()) {
      this.numberToken();
      return;
    }
    this.setError('invalid token');
  }
}

/** A growing output buffer of bytes (strbuf_t). */
class Out extends ByteBuffer {
  constructor() {
    super(1024);
  }
  /** A short ASCII string (a number, a keyword, an escape). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let o = this.len;
    for (let i = 0; i < n; i++) b[o++] = s.charCodeAt(i);
    this.len = o;
  }
  /** lua_cjson.c json_append_string: bytes `p` to `end` of `s` quoted, with char2escape's escapes. */
  jsonString(s: Uint8Array, p: number, end: number): void {
    // one escape is 6 bytes at most: reserving for the worst case up front (as the C does) would
    // ask 6 times the string's size of every long string
    this.reserve(end - p + 2);
    this.buf[this.len++] = 0x22;
    let run = p;
    for (let i = p; i < end; i++) {
      const c = s[i]!;
      if (NEEDS_ESCAPE[c] === 0) continue;
      this.writeRun(s, run, i);
      this.ascii(CHAR2ESCAPE[c]!);
      run = i + 1;
    }
    this.writeRun(s, run, end);
    this.byte(0x22);
  }
  private writeRun(s: Uint8Array, from: number, to: number): void {
    const k = to - from;
    if (k <= 0) return;
    this.reserve(k);
    if (k < 32) {
      const b = this.buf;
      let o = this.len;
      for (let i = from; i < to; i++) b[o++] = s[i]!;
      this.len = o;
    } else {
      this.buf.set(s.subarray(from, to), this.len);
      this.len += k;
    }
  }
}

/** The settings encode reads, copied from the userdata once per call. */
interface EncodeSettings {
  sparseConvert: number;
  sparseRatio: number;
  sparseSafe: number;
  maxDepth: number;
  invalidNumbers: number;
  precision: number;
}

/** Per-VM state: the registered functions and the reusable encode/decode buffers. */
interface CjsonState {
  vm: LuaVM;
  fns: Array<[string, number]>;
  out: Out;
  parser: Parser;
  /** the open tables of an encode: kind (1 array, 0 object), next index or comma flag, length */
  kinds: number[];
  next: number[];
  lens: number[];
}

/** (int) of a double as x86-64's cvttsd2si with a 32-bit destination: INT_MIN when out of range. */
function cvtInt32(k: number): number {
  return k >= 2147483648 || k < -2147483648 || k !== k ? -2147483648 : Math.trunc(k);
}

function fetchConfig(vm: LuaVM, L: LuaState): number {
  const cfg = vm.toUserdata(L, LuaVM.upvalueIndex(1));
  if (cfg === 0) vm.errorWhere(L, 'BUG: Unable to fetch CJSON configuration');
  return cfg;
}

/** lua_cjson.c json_arg_init: at most `args` arguments, padded with nils to `args`. */
function argInit(vm: LuaVM, L: LuaState, args: number): number {
  if (vm.top(L) > args) vm.argError(L, args + 1, 'found too many arguments');
  for (let i = vm.top(L); i < args; i++) vm.pushNil(L);
  return fetchConfig(vm, L);
}

/** lua_cjson.c json_integer_option (its range error always names argument 1, as the C does). */
function integerOption(vm: LuaVM, L: LuaState, idx: number, field: number, min: number, max: number): number {
  if (vm.type(L, idx) !== LUA_TNIL) {
    // luaL_checkinteger's 64-bit lua_Integer stored into an int
    const value = vm.checkInteger64(L, idx) | 0;
    if (!(min <= value && value <= max)) vm.argError(L, 1, `expected integer between ${min} and ${max}`);
    vm.pokeI32(field, value);
  }
  vm.pushNumber(L, vm.peekI32(field));
  return 1;
}

const BOOL_OPTIONS = ['off', 'on'];

/** lua_cjson.c json_enum_option (a boolean stands for 0 or `boolTrue`). */
function enumOption(vm: LuaVM, L: LuaState, idx: number, field: number, options: string[] | null, boolTrue: number): number {
  if (options === null) {
    options = BOOL_OPTIONS;
    boolTrue = 1;
  }
  if (vm.type(L, idx) !== LUA_TNIL) {
    if (boolTrue && vm.type(L, idx) === LUA_TBOOLEAN) vm.pokeI32(field, vm.toBoolean(L, idx) ? boolTrue : 0);
    else vm.pokeI32(field, checkOption(vm, L, idx, options));
  }
  const setting = vm.peekI32(field);
  if (boolTrue && (setting === 0 || setting === boolTrue)) vm.pushBoolean(L, setting !== 0);
  else vm.pushString(L, options[setting]!);
  return 1;
}

/** luaL_checkoption with no default: the option's index, or "invalid option 'x'". */
function checkOption(vm: LuaVM, L: LuaState, idx: number, options: string[]): number {
  let name = vm.checkString(L, idx);
  const nul = name.indexOf('\0');
  if (nul >= 0) name = name.slice(0, nul);
  const i = options.indexOf(name);
  if (i < 0) vm.argErrorMsg(L, idx, `invalid option '${name}'`);
  return i;
}

/** The string at `idx`, appended quoted and escaped, read in place from WebAssembly memory. */
function appendString(vm: LuaVM, out: Out, L: LuaState, idx: number): void {
  const p = vm.toStrPtr(L, idx);
  out.jsonString(vm.heapU8(), p, p + vm.lastLength);
}

/** lua_cjson.c json_append_number. */
function appendNumber(st: CjsonState, L: LuaState, s: EncodeSettings, num: number): void {
  const { vm, out } = st;
  if (s.invalidNumbers === 0) {
    if (!Number.isFinite(num)) vm.errorWhere(L, 'Cannot serialise number: must not be NaN or Inf');
  } else if (s.invalidNumbers === 1) {
    // printed apart: a platform's printf may write "-nan"
    if (num !== num) {
      out.ascii('nan');
      return;
    }
  } else if (!Number.isFinite(num)) {
    out.ascii('null');
    return;
  }
  out.ascii(formatG(num, s.precision));
}

/**
 * lua_cjson.c lua_array_length for the table on top: its length when every key is a positive
 * integer (and it is not excessively sparse), else -1; raises for an excessively sparse array
 * when those are not converted to objects.
 */
function arrayLength(st: CjsonState, L: LuaState, s: EncodeSettings): number {
  const vm = st.vm;
  let max = 0;
  let items = 0;
  vm.pushNil(L);
  // one turn per key of the table
  while (vm.next(L, -2)) {
    if (vm.type(L, -2) === LUA_TNUMBER) {
      const k = vm.toNumber(L, -2);
      if (k !== 0 && Math.floor(k) === k && k >= 1) {
        if (k > max) max = cvtInt32(k);
        items++;
        vm.pop(L, 1);
        continue;
      }
    }
    vm.pop(L, 2);
    return -1;
  }
  if (s.sparseRatio > 0 && max > Math.imul(items, s.sparseRatio) && max > s.sparseSafe) {
    if (!s.sparseConvert) vm.errorWhere(L, 'Cannot serialise table: excessively sparse array');
    return -1;
  }
  return max;
}

/** The scalar on top of the stack, appended (lua_cjson.c json_append_data but for tables). */
function appendScalar(st: CjsonState, L: LuaState, s: EncodeSettings, t: number): void {
  const { vm, out } = st;
  switch (t) {
    case LUA_TSTRING:
      appendString(vm, out, L, -1);
      return;
    case LUA_TNUMBER:
      appendNumber(st, L, s, vm.toNumber(L, -1));
      return;
    case LUA_TBOOLEAN:
      out.ascii(vm.toBoolean(L, -1) ? 'true' : 'false');
      return;
    case LUA_TNIL:
      out.ascii('null');
      return;
    case LUA_TLIGHTUSERDATA:
      if (vm.toUserdata(L, -1) === 0) {
        out.ascii('null');
        return;
      }
  }
  vm.errorWhere(L, `Cannot serialise ${typeName(t)}: type not supported`);
}

/**
 * lua_cjson.c json_append_data for the value on top of the stack, tables walked with an explicit
 * stack of open tables. The Lua stack holds what the C recursion holds: for an array, the table
 * and the element being encoded; for an object, the table, the key and the value.
 */
function encodeTop(st: CjsonState, L: LuaState, s: EncodeSettings): void {
  const { vm, out, kinds, next, lens } = st;
  let sp = 0;
  let pending = true;
  // every turn writes a byte at least (a bracket, a comma, a key or a value), so the output's
  // length bounds the turns; the table walk itself ends with the data (or the depth limit)
  for (let steps = 0; steps <= 2 * out.len + 8; steps++) {
    if (pending) {
      pending = false;
      const t = vm.type(L, -1);
      if (t === LUA_TTABLE) {
        const depth = sp + 1;
        // json_check_encode_depth: slots for a key, a value and an error message
        if (!(depth <= s.maxDepth && vm.checkStack(L, 3))) vm.errorWhere(L, `Cannot serialise, excessive nesting (${depth})`);
        const len = arrayLength(st, L, s);
        if (len > 0) {
          out.byte(0x5b);
          kinds[sp] = 1;
          next[sp] = 1;
          lens[sp] = len;
        } else {
          out.byte(0x7b);
          kinds[sp] = 0;
          next[sp] = 0;
          vm.pushNil(L);
        }
        sp++;
        continue;
      }
      appendScalar(st, L, s, t);
      if (sp === 0) return;
      vm.pop(L, 1);
    }
    const f = sp - 1;
    if (kinds[f] === 1) {
      const i = next[f]!;
      if (i <= lens[f]!) {
        if (i > 1) out.byte(0x2c);
        next[f] = i + 1;
        vm.rawGetI(L, -1, i);
        pending = true;
        continue;
      }
      out.byte(0x5d);
    } else {
      if (vm.next(L, -2)) {
        if (next[f]) out.byte(0x2c);
        else next[f] = 1;
        const kt = vm.type(L, -2);
        if (kt === LUA_TNUMBER) {
          out.byte(0x22);
          appendNumber(st, L, s, vm.toNumber(L, -2));
          out.ascii('":');
        } else if (kt === LUA_TSTRING) {
          appendString(vm, out, L, -2);
          out.byte(0x3a);
        } else {
          vm.errorWhere(L, `Cannot serialise ${typeName(kt)}: table key must be a number or string`);
        }
        pending = true;
        continue;
      }
      out.byte(0x7d);
    }
    sp--;
    if (sp === 0) return;
    vm.pop(L, 1);
  }
  vm.errorWhere(L, 'BUG: cjson.encode did not progress');
}

function jsonEncode(st: CjsonState, L: LuaState): number {
  const vm = st.vm;
  const cfg = fetchConfig(vm, L);
  if (vm.top(L) !== 1) vm.argError(L, 1, 'expected 1 argument');
  const s: EncodeSettings = {
    sparseConvert: vm.peekI32(cfg + CFG_SPARSE_CONVERT),
    sparseRatio: vm.peekI32(cfg + CFG_SPARSE_RATIO),
    sparseSafe: vm.peekI32(cfg + CFG_SPARSE_SAFE),
    maxDepth: vm.peekI32(cfg + CFG_ENCODE_MAX_DEPTH),
    invalidNumbers: vm.peekI32(cfg + CFG_ENCODE_INVALID_NUMBERS),
    precision: vm.peekI32(cfg + CFG_ENCODE_NUMBER_PRECISION),
  };
  // reset here, not after: an error leaves the buffer as it was
  st.out.len = 0;
  encodeTop(st, L, s);
  vm.pushBytes(L, st.out.buf.subarray(0, st.out.len));
  // a huge result's buffer is not kept for the next call
  if (st.out.buf.length > 1 << 20) st.out.buf = Buffer.allocUnsafe(1024);
  return 1;
}

// decode's open containers
const D_ARRAY = 1;
const D_OBJECT = 0;
const S_VALUE = 0;
const S_KEY = 1;
const S_AFTER = 2;

/**
 * Pushes the string token: without escapes, straight from the input's bytes in WebAssembly memory
 * (`base`: the decoded string stays at index 1, and Lua does not move strings).
 */
function pushToken(vm: LuaVM, L: LuaState, p: Parser, base: number): void {
  if (p.strFrom >= 0) vm.pushFromHeap(L, base + p.strFrom, p.strTo - p.strFrom);
  else vm.pushString(L, p.str);
}

/** lua_cjson.c json_throw_parse_error. */
function parseError(vm: LuaVM, L: LuaState, p: Parser, expected: string): void {
  const found = p.type === T_ERROR ? p.err : TOKEN_NAMES[p.type]!;
  vm.errorWhere(L, `Expected ${expected} but found ${found} at character ${p.index + 1}`);
}

/** lua_cjson.c json_decode_descend: one level deeper, within decode_max_depth and the Lua stack. */
function descend(vm: LuaVM, L: LuaState, p: Parser, slots: number): void {
  p.depth++;
  if (p.depth <= p.maxDepth && vm.checkStack(L, slots)) return;
  vm.errorWhere(L, `Found too many nested data structures (${p.depth}) at character ${p.p}`);
}

function jsonDecode(st: CjsonState, L: LuaState): number {
  const vm = st.vm;
  if (vm.top(L) !== 1) vm.argError(L, 1, 'expected 1 argument');
  const cfg = fetchConfig(vm, L);
  const d = vm.checkString(L, 1);
  const base = vm.toStrPtr(L, 1);
  const p = st.parser;
  p.d = d;
  p.n = d.length;
  p.p = 0;
  p.depth = 0;
  p.maxDepth = vm.peekI32(cfg + CFG_DECODE_MAX_DEPTH);
  p.invalidNumbers = vm.peekI32(cfg + CFG_DECODE_INVALID_NUMBERS) !== 0;
  // only the first byte is sure to be ASCII in UTF-8 JSON; a NUL in the first two means UTF-16/32
  if (d.length >= 2 && (d.charCodeAt(0) === 0 || d.charCodeAt(1) === 0)) vm.errorWhere(L, 'JSON parser does not support UTF-16 or UTF-32');
  const { kinds, next } = st;
  let sp = 0;
  let state = S_VALUE;
  p.next();
  // every turn reads a token or closes a container: a few per byte of input at most
  const limit = 4 * p.n + 16;
  let steps = 0;
  for (; steps <= limit; steps++) {
    if (state === S_VALUE) {
      switch (p.type) {
        case T_STRING:
          pushToken(vm, L, p, base);
          break;
        case T_NUMBER:
          vm.pushNumber(L, p.num);
          break;
        case T_BOOLEAN:
          vm.pushBoolean(L, p.bool);
          break;
        case T_NULL:
          // Lua tables cannot hold nil: JSON null is the NULL lightuserdata (cjson.null)
          vm.pushLightUserdata(L, 0);
          break;
        case T_OBJ_BEGIN:
          // slots for the table, a key and a value
          descend(vm, L, p, 3);
          vm.newTable(L);
          if (p.next() === T_OBJ_END) {
            p.depth--;
            break;
          }
          kinds[sp++] = D_OBJECT;
          state = S_KEY;
          continue;
        case T_ARR_BEGIN:
          descend(vm, L, p, 2);
          vm.newTable(L);
          if (p.next() === T_ARR_END) {
            p.depth--;
            break;
          }
          kinds[sp] = D_ARRAY;
          next[sp++] = 1;
          continue;
        default:
          parseError(vm, L, p, 'value');
      }
      state = S_AFTER;
      continue;
    }
    if (state === S_KEY) {
      if (p.type !== T_STRING) parseError(vm, L, p, 'object key string');
      pushToken(vm, L, p, base);
      if (p.next() !== T_COLON) parseError(vm, L, p, 'colon');
      p.next();
      state = S_VALUE;
      continue;
    }
    // a complete value is on top
    if (sp === 0) break;
    const f = sp - 1;
    if (kinds[f] === D_ARRAY) {
      vm.rawSetI(L, -2, next[f]!);
      const t = p.next();
      if (t === T_ARR_END) {
        p.depth--;
        sp--;
        continue;
      }
      if (t !== T_COMMA) parseError(vm, L, p, 'comma or array end');
      p.next();
      next[f]!++;
    } else {
      vm.rawSet(L, -3);
      const t = p.next();
      if (t === T_OBJ_END) {
        p.depth--;
        sp--;
        continue;
      }
      if (t !== T_COMMA) parseError(vm, L, p, 'comma or object end');
      p.next();
      state = S_KEY;
      continue;
    }
    state = S_VALUE;
  }
  if (steps > limit) vm.errorWhere(L, 'BUG: cjson.decode did not progress');
  if (p.next() !== T_END) parseError(vm, L, p, 'the end');
  // the text is not kept past the call
  p.d = '';
  return 1;
}

/** json_create_config's defaults (lua_cjson.c DEFAULT_*). */
function initConfig(vm: LuaVM, cfg: number): void {
  vm.pokeI32(cfg + CFG_SPARSE_CONVERT, 0);
  vm.pokeI32(cfg + CFG_SPARSE_RATIO, 2);
  vm.pokeI32(cfg + CFG_SPARSE_SAFE, 10);
  vm.pokeI32(cfg + CFG_ENCODE_MAX_DEPTH, 1000);
  vm.pokeI32(cfg + CFG_ENCODE_INVALID_NUMBERS, 0);
  vm.pokeI32(cfg + CFG_ENCODE_NUMBER_PRECISION, 14);
  vm.pokeI32(cfg + CFG_ENCODE_KEEP_BUFFER, 1);
  vm.pokeI32(cfg + CFG_DECODE_INVALID_NUMBERS, 1);
  vm.pokeI32(cfg + CFG_DECODE_MAX_DEPTH, 1000);
}

/** lua_cjson.c lua_cjson_new: pushes a module table with a configuration of its own. */
function cjsonNew(st: CjsonState, L: LuaState): number {
  const vm = st.vm;
  vm.newTable(L);
  const cfg = vm.newUserdata(L, CFG_BYTES);
  initConfig(vm, cfg);
  // luaL_setfuncs(l, reg, 1): every function gets the configuration as its upvalue
  for (const [name, f] of st.fns) {
    vm.pushValue(L, -1);
    vm.pushClosure(L, f, 1);
    vm.setField(L, -3, name);
  }
  vm.pop(L, 1);
  vm.pushLightUserdata(L, 0);
  vm.setField(L, -2, 'null');
  vm.pushString(L, 'cjson');
  vm.setField(L, -2, '_NAME');
  vm.pushString(L, '2.1.0');
  vm.setField(L, -2, '_VERSION');
  return 1;
}

/** The state of one VM, its functions registered once (function-table slots are never freed). */
const states = new WeakMap<LuaVM, CjsonState>();

function stateOf(vm: LuaVM): CjsonState {
  let st = states.get(vm);
  if (st) return st;
  const s: CjsonState = { vm, fns: [], out: new Out(), parser: new Parser(), kinds: [], next: [], lens: [] };
  const cfgOf = (L: LuaState, args: number): number => argInit(vm, L, args);
  const table: Array<[string, (L: LuaState) => number]> = [
    ['encode', (L) => jsonEncode(s, L)],
    ['decode', (L) => jsonDecode(s, L)],
    ['encode_sparse_array', (L) => {
      const cfg = cfgOf(L, 3);
      enumOption(vm, L, 1, cfg + CFG_SPARSE_CONVERT, null, 1);
      integerOption(vm, L, 2, cfg + CFG_SPARSE_RATIO, 0, INT_MAX);
      integerOption(vm, L, 3, cfg + CFG_SPARSE_SAFE, 0, INT_MAX);
      return 3;
    }],
    ['encode_max_depth', (L) => integerOption(vm, L, 1, cfgOf(L, 1) + CFG_ENCODE_MAX_DEPTH, 1, INT_MAX)],
    ['decode_max_depth', (L) => integerOption(vm, L, 1, cfgOf(L, 1) + CFG_DECODE_MAX_DEPTH, 1, INT_MAX)],
    ['encode_number_precision', (L) => integerOption(vm, L, 1, cfgOf(L, 1) + CFG_ENCODE_NUMBER_PRECISION, 1, 14)],
    // the buffer it keeps or frees is the C library's memory management: only the setting remains
    ['encode_keep_buffer', (L) => enumOption(vm, L, 1, cfgOf(L, 1) + CFG_ENCODE_KEEP_BUFFER, null, 1)],
    ['encode_invalid_numbers', (L) => enumOption(vm, L, 1, cfgOf(L, 1) + CFG_ENCODE_INVALID_NUMBERS, ['off', 'on', 'null'], 1)],
    ['decode_invalid_numbers', (L) => enumOption(vm, L, 1, cfgOf(L, 1) + CFG_DECODE_INVALID_NUMBERS, null, 1)],
    ['new', (L) => cjsonNew(s, L)],
  ];
  s.fns = table.map(([name, f]) => [name, vm.fn(f)]);
  states.set(vm, s);
  return s;
}

/**
 * Opens the `cjson` library as Redis does (lua_cjson.c luaopen_cjson, built with
 * ENABLE_CJSON_GLOBAL): the global table `cjson` with encode, decode, encode_sparse_array,
 * encode_max_depth, decode_max_depth, encode_number_precision, encode_keep_buffer,
 * encode_invalid_numbers, decode_invalid_numbers, new, null (the NULL lightuserdata), _NAME and
 * _VERSION. The stack is left as found.
 */
export function openCjson(vm: LuaVM, L: LuaState): void {
  const top = vm.top(L);
  cjsonNew(stateOf(vm), L);
  vm.setField(L, LUA_GLOBALSINDEX, 'cjson');
  vm.setTop(L, top);
}
