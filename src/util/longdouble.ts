/**
 * Emulation of the C `long double` of x86-64 Linux (the x87 80-bit extended format: 64-bit
 * significand with explicit integer bit, 15-bit exponent), which Redis 7.0's INCRBYFLOAT and
 * HINCRBYFLOAT compute in. A JS double cannot reproduce their results ("10.5" + "0.1" is "10.6"
 * in Redis, "5010.60000000000000009" after adding 5.0e3), so the three steps Redis takes are
 * reproduced exactly with BigInt arithmetic, rounding half to even as the FPU and glibc do:
 *
 * - {@link parseLongDouble}: string2ld() of src/util.c (glibc strtold, correctly rounded);
 * - {@link addLongDouble}: the x87 addition `value += incr`;
 * - {@link formatLongDoubleHuman}: ld2string(LD_STR_HUMAN): printf("%.17Lf") with trailing
 *   zeros removed.
 *
 * A finite value is `(neg ? -1 : 1) * m * 2^e` with 0 <= m < 2^64. Not on any hot path.
 */
export interface LongDouble {
  neg: boolean;
  /** significand, < 2^64; 0n for a zero */
  m: bigint;
  /** binary exponent of the significand's least significant bit */
  e: number;
  /** true for an infinity (m and e are then meaningless) */
  inf: boolean;
}

/** MAX_LONG_DOUBLE_CHARS of src/util.h: string2ld refuses strings of this length or more. */
export const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

/** Exponent of the LSB of the smallest subnormal (2^-16445). */
const MIN_E = -16445;
/** Values of 2^MAX_BITS or more overflow (the largest finite is (2^64-1) * 2^16320). */
const MAX_BITS = 16384;
const SIG_BITS = 64;

function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  const hex = n.toString(16);
  const top = parseInt(hex[0]!, 16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(top));
}

/** n >> s rounded half to even (s > 0). */
function shiftRoundEven(n: bigint, s: number): bigint {
  if (s > bitLength(n)) return 0n; // n < 2^(s-1) = half: rounds to zero
  const bs = BigInt(s);
  const q = n >> bs;
  const r = n - (q << bs);
  const half = 1n << (bs - 1n);
  if (r > half || (r === half && (q & 1n) === 1n)) return q + 1n;
  return q;
}

function inf(neg: boolean): LongDouble {
  return { neg, m: 0n, e: 0, inf: true };
}

/**
 * Rounds the exact value `±n * 2^e` (n >= 0) to the extended format, subnormals included.
 * Overflow gives an infinity, as the FPU and strtold do.
 */
function roundExact(neg: boolean, n: bigint, e: number): LongDouble {
  if (n === 0n) return { neg, m: 0n, e: 0, inf: false };
  const len = bitLength(n);
  if (len + e > MAX_BITS) return inf(neg);
  let q = e + len - SIG_BITS;
  if (q < MIN_E) q = MIN_E;
  if (q > e) {
    n = shiftRoundEven(n, q - e);
    e = q;
    if (n === 1n << 64n) {
      n = 1n << 63n;
      e++;
    }
    if (n !== 0n && bitLength(n) + e > MAX_BITS) return inf(neg);
  }
  return { neg, m: n, e, inf: false };
}

const DECIMAL_RE = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX_RE = /^([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^([+-]?)(?:inf|infinity)$/i;

const pow10Cache = new Map<number, bigint>();
function pow10(k: number): bigint {
  let v = pow10Cache.get(k);
  if (v === undefined) {
    v = 10n ** BigInt(k);
    if (pow10Cache.size < 64) pow10Cache.set(k, v);
  }
  return v;
}

/**
 * Parses a string as Redis's string2ld (src/util.c): glibc strtold of the whole string,
 * correctly rounded to the extended format. Accepts decimal and hexadecimal floats, "inf" and
 * "infinity" (any case, optional sign). Refuses: an empty string, one of
 * {@link MAX_LONG_DOUBLE_CHARS} chars or more, leading whitespace, trailing characters, NaN,
 * overflow to infinity, and a nonzero value that underflows to zero.
 * @returns the value, or null when Redis would reply "ERR value is not a valid float"
 */
export function parseLongDouble(s: string): LongDouble | null {
  const len = s.length;
  if (len === 0 || len >= MAX_LONG_DOUBLE_CHARS) return null;
  let m = DECIMAL_RE.exec(s);
  if (m !== null) {
    const neg = m[1] === '-';
    let digits = m[2] !== undefined ? m[2] + (m[3] ?? '') : m[4]!;
    let exp10 = -(m[2] !== undefined ? (m[3] ?? '').length : m[4]!.length);
    if (m[5] !== undefined) exp10 += Number(m[5]); // may be huge or lose precision: only compared
    let i = 0;
    while (i < digits.length && digits.charCodeAt(i) === 48) i++;
    digits = digits.slice(i);
    if (digits.length === 0) return { neg, m: 0n, e: 0, inf: false };
    let j = digits.length;
    while (digits.charCodeAt(j - 1) === 48) j--;
    exp10 += digits.length - j;
    digits = digits.slice(0, j);
    const lead = exp10 + digits.length - 1; // decimal exponent of the leading digit
    if (lead > 4933) return null; // > 1.19e4932: overflows to HUGE_VALL (ERANGE)
    if (lead < -4952) return null; // < half the smallest subnormal: underflows to 0 (ERANGE)
    const d = BigInt(digits);
    let r: LongDouble;
    if (exp10 >= 0) {
      r = roundExact(neg, d * pow10(exp10), 0);
    } else {
      const p = pow10(-exp10);
      const t = Math.max(0, SIG_BITS + 2 + bitLength(p) - bitLength(d));
      const num = d << BigInt(t);
      const q = num / p;
      const sticky = num - q * p !== 0n ? 1n : 0n;
      r = roundExact(neg, (q << 1n) | sticky, -t - 1);
    }
    if (r.inf || r.m === 0n) return null;
    return r;
  }
  m = HEX_RE.exec(s);
  if (m !== null) {
    const neg = m[1] === '-';
    const intPart = m[2] ?? '';
    const frac = m[2] !== undefined ? m[3] ?? '' : m[4]!;
    const n = BigInt('0x' + (intPart + frac || '0'));
    if (n === 0n) return { neg, m: 0n, e: 0, inf: false };
    const e = (m[5] !== undefined ? Number(m[5]) : 0) - 4 * frac.length;
    const bl = bitLength(n);
    if (bl + e > MAX_BITS + 1) return null;
    if (bl + e < MIN_E - 1) return null;
    const r = roundExact(neg, n, e);
    if (r.inf || r.m === 0n) return null;
    return r;
  }
  m = INF_RE.exec(s);
  if (m !== null) return inf(m[1] === '-');
  return null;
}

/**
 * The long double of a 64-bit integer (an int-encoded string value): exact, as every int64 fits
 * the 64-bit significand.
 */
export function longDoubleFromInt(v: bigint): LongDouble {
  const neg = v < 0n;
  return { neg, m: neg ? -v : v, e: 0, inf: false };
}

/**
 * a + b rounded to the extended format (round half to even). Returns null when the result is
 * NaN or an infinity, which INCRBYFLOAT refuses ("increment would produce NaN or Infinity").
 */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.inf || b.inf) return null; // inf + x is inf, inf - inf is NaN: refused either way
  if (a.m === 0n && b.m === 0n) return { neg: a.neg && b.neg, m: 0n, e: 0, inf: false };
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const am = a.m << BigInt(a.e - e);
  const bm = b.m << BigInt(b.e - e);
  const sum = (a.neg ? -am : am) + (b.neg ? -bm : bm);
  if (sum === 0n) return { neg: false, m: 0n, e: 0, inf: false }; // x + -x is +0 when rounding to nearest
  const r = roundExact(sum < 0n, sum < 0n ? -sum : sum, e);
  return r.inf ? null : r;
}

const TEN17 = 10n ** 17n;

/**
 * Formats a finite value as Redis's ld2string(LD_STR_HUMAN) (src/util.c): printf("%.17Lf")
 * (exact decimal expansion rounded half to even at 17 decimals, as glibc does), then trailing
 * zeros and a trailing '.' removed, and "-0" turned into "0". Never uses an exponent.
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.inf) return v.neg ? '-inf' : 'inf';
  let scaled: bigint; // round(|v| * 10^17)
  if (v.e >= 0) {
    scaled = (v.m << BigInt(v.e)) * TEN17;
  } else {
    const k = BigInt(-v.e);
    const num = v.m * TEN17;
    let q = num >> k;
    const r = num - (q << k);
    const half = 1n << (k - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q++;
    scaled = q;
  }
  const intPart = (scaled / TEN17).toString();
  let frac = (scaled % TEN17).toString().padStart(17, '0');
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  const body = frac.length > 0 ? intPart + '.' + frac : intPart;
  if (v.neg && body !== '0') return '-' + body;
  return body;
}
