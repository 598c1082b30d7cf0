/** Smallest and largest signed 64-bit integers (LLONG_MIN / LLONG_MAX). */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a string strictly as Redis's string2ll (src/util.c): optional '-', digits, no leading
 * zeros, no spaces or '+', within signed 64 bits.
 * @returns the value as a bigint, or null when the string is not such an integer
 */
export function parseInt64(s: string): bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  if (n < 16) {
    const v = parseSmallInt(s);
    return v === null ? null : BigInt(v);
  }
  let i = 0;
  if (s.charCodeAt(0) === 45) i = 1;
  if (i === n) return null;
  if (s.charCodeAt(i) === 48) return null; // leading zero in a long number
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/**
 * Parses an integer with string2ll's rules when it has at most 15 characters, so it fits a JS
 * number exactly. Returns null otherwise; callers fall back to {@link parseInt64}.
 */
function parseSmallInt(s: string): number | null {
  const n = s.length;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
    if (n === 1) return null;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n - i === 1 && !neg ? 0 : null;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/**
 * Parses a signed 64-bit integer (string2ll rules) and returns it as a JS number when it is
 * within ±2^53, which covers every count, index and millisecond time. Larger values come back
 * as bigint. Null when invalid.
 */
export function parseInteger(s: string): number | bigint | null {
  if (s.length > 0 && s.length < 16) return parseSmallInt(s);
  const v = parseInt64(s);
  if (v === null) return null;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/**
 * Like {@link parseInteger} but always a JS number: int64 values beyond 2^53 are rounded, which is
 * fine for ranges and offsets that are clamped anyway. Null when not an int64.
 */
export function parseLong(s: string): number | null {
  const v = parseInteger(s);
  return v === null ? null : Number(v);
}

/**
 * Parses a double the way Redis's string2d / getDoubleFromObject does (strtod of the whole
 * string): no leading spaces, "inf", "+inf", "-inf", "infinity" accepted, NaN refused.
 * @returns the number, or null when not a valid float
 */
export function parseDouble(s: string): number | null {
  const n = s.length;
  if (n === 0 || n > 5000) return null;
  if (n <= 16) {
    // fast path for the common plain decimal ([+-]digits[.digits]): what strtod reads, Number()
    // reads alike, and 16 chars can neither overflow nor underflow
    let i = s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43 ? 1 : 0;
    let digits = 0;
    let dots = 0;
    for (; i < n; i++) {
      const ch = s.charCodeAt(i);
      if (ch >= 48 && ch <= 57) digits++;
      else if (ch === 46 && dots === 0) dots++;
      else break;
    }
    if (i === n && digits > 0) return Number(s);
  }
  const c0 = s.charCodeAt(0);
  if (c0 === 32 || c0 === 9 || c0 === 10 || c0 === 13 || c0 === 11 || c0 === 12) return null;
  const cl = s.charCodeAt(n - 1);
  if (cl === 32 || cl === 9 || cl === 10 || cl === 13 || cl === 11 || cl === 12) return null;
  const lower = s.toLowerCase();
  const body = lower[0] === '+' || lower[0] === '-' ? lower.slice(1) : lower;
  if (body === 'inf' || body === 'infinity') return lower[0] === '-' ? -Infinity : Infinity;
  // strtod accepts hex floats too; Redis users virtually never send them, and JS cannot parse
  // them with Number(), so they are handled explicitly.
  if (/^0x[0-9a-f]*(\.[0-9a-f]*)?(p[+-]?\d+)?$/.test(body) && body.length > 2) {
    const h = parseHexFloat(body, lower[0] === '-');
    if (h === null || !Number.isFinite(h) || (h === 0 && /[1-9a-f]/.test(body.slice(2).split('p')[0]!))) return null;
    return h;
  }
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(body)) return null;
  const v = Number(lower);
  if (Number.isNaN(v)) return null;
  // strtod's ERANGE: Redis refuses an overflow to +-inf and a nonzero value that underflows to 0
  if (!Number.isFinite(v)) return null;
  if (v === 0 && /[1-9]/.test(body.split('e')[0]!)) return null;
  return v;
}

function parseHexFloat(body: string, neg: boolean): number | null {
  const m = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/.exec(body);
  if (!m) return null;
  const intPart = m[1] ?? '';
  const frac = m[2] ?? '';
  if (intPart === '' && frac === '') return null;
  let v = 0;
  for (const ch of intPart + frac) v = v * 16 + parseInt(ch, 16);
  v = v / 16 ** frac.length;
  v *= 2 ** Number(m[3] ?? 0);
  return neg ? -v : v;
}

/**
 * Formats a double as C's printf("%.17g"), which Redis 7.0 uses for double replies
 * (addReplyDouble) and scores; infinities are "inf" and "-inf".
 */
export function formatDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  return formatG(d, 17);
}

/**
 * C's printf("%.<decimals>f") for finite doubles below 1e21 (0 <= decimals <= 20): the exact
 * value rounded to `decimals` decimals, an exact tie to even as glibc does (toFixed rounds a tie
 * away from zero: 0.125 gives "0.13" where Redis's INFO and DEBUG OBJECT print "0.12").
 */
export function formatFixed(d: number, decimals: number): string {
  const s = d.toFixed(decimals);
  // a tie needs d * 10^decimals to end in exactly .5, so d * 2^(decimals+1) must be an integer;
  // such a d has at most decimals+1 decimals, which toFixed(decimals + 1) then gives exactly
  if (Math.abs(d) < 1e21 && Number.isInteger(d * 2 ** (decimals + 1))) {
    const x = d.toFixed(decimals + 1);
    if (x.charCodeAt(x.length - 1) === 53 /* '5' */) {
      const kept = decimals === 0 ? x.slice(0, -2) : x.slice(0, -1);
      // an even last kept digit rounds down; an odd one rounds up as toFixed did
      if ((kept.charCodeAt(kept.length - 1) & 1) === 0) return kept;
    }
  }
  return s;
}

/**
 * C's printf("%.<precision>g") for finite doubles (1 <= precision <= 100): the `precision`
 * significant digits of the exact value rounded half to even, as glibc does.
 */
export function formatG(d: number, precision: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const s = d.toExponential(precision - 1);
  const ei = s.indexOf('e');
  let exp = Number(s.slice(ei + 1));
  let digits = s.charCodeAt(0) === 45 ? s.slice(1, ei) : s.slice(0, ei); // "d.ddd"
  // V8 rounds an exact tie away from zero (ECMA-262 picks the larger n); glibc rounds it to even.
  // A tie needs the exact expansion to stop one digit after the last kept one. For precision
  // <= 17 only |d| < 1e22 with d * 2^26 an integer can do that (k binary fraction digits give k
  // decimal ones, of which at most 30% are leading zeros; a larger integer has too few factors
  // of 2), and for precision 17 no integer can.
  if (precision <= 17 && Math.abs(d) < 1e22 && Number.isInteger(d * 67108864) && !(precision === 17 && Number.isInteger(d))) {
    const x = d.toExponential(60); // exact: such a d has at most 48 significant digits
    const xe = x.indexOf('e');
    const xd = (x.charCodeAt(0) === 45 ? x.slice(1, xe) : x.slice(0, xe)).replace('.', '');
    if (xd.charCodeAt(precision) === 53 && /^0*$/.test(xd.slice(precision + 1)) && (xd.charCodeAt(precision - 1) & 1) === 0) {
      // a tie whose last kept digit is even: round down (truncate), where V8 rounded up
      exp = Number(x.slice(xe + 1));
      digits = precision === 1 ? xd[0]! : xd[0] + '.' + xd.slice(1, precision);
    }
  }
  const sign = d < 0 ? '-' : '';
  if (exp < -4 || exp >= precision) {
    const abs = Math.abs(exp);
    return sign + stripZeros(digits) + 'e' + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' + abs : String(abs));
  }
  // fixed notation with precision-1-exp decimals, from the same significant digits
  const all = digits.length > 1 ? digits[0] + digits.slice(2) : digits;
  let fixed: string;
  if (exp >= 0) {
    fixed = all.length > exp + 1 ? all.slice(0, exp + 1) + '.' + all.slice(exp + 1) : all + '0'.repeat(exp + 1 - all.length);
  } else {
    fixed = '0.' + '0'.repeat(-exp - 1) + all;
  }
  return sign + stripZeros(fixed);
}

function stripZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}
