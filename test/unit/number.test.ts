/**
 * util/number.ts (string2ll, strtod rules, %.17g) and util/longdouble.ts (strtold, x87 addition,
 * %.17Lf), against exact BigInt references and values taken from redis-server 7.0.15 on x86-64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseInt64, parseInteger, parseLong, parseDouble, formatDouble, formatFixed, formatG, INT64_MAX, INT64_MIN } from '../../src/util/number.js';
import { parseLongDouble, addLongDouble, formatLongDoubleHuman, longDoubleFromInt } from '../../src/util/longdouble.js';

test('parseInt64 follows string2ll strictly', () => {
  const ok: Array<[string, bigint]> = [
    ['0', 0n], ['1', 1n], ['-1', -1n], ['123456789012345', 123456789012345n], ['9223372036854775807', INT64_MAX],
    ['-9223372036854775808', INT64_MIN], ['9007199254740993', 9007199254740993n], ['-9007199254740993', -9007199254740993n],
  ];
  for (const [s, v] of ok) assert.equal(parseInt64(s), v, s);
  const bad = ['', '-', '+1', ' 1', '1 ', '01', '-0', '00', '1.0', '1e3', '9223372036854775808', '-9223372036854775809',
    '99999999999999999999', '0x10', 'abc', '1\x00', '--1', '0000000000000000001', '-01'];
  for (const s of bad) assert.equal(parseInt64(s), null, JSON.stringify(s));
});

test('parseInteger returns numbers up to 2^53 and bigints beyond; parseLong always a number', () => {
  assert.equal(parseInteger('42'), 42);
  assert.equal(parseInteger('-9007199254740991'), -9007199254740991);
  assert.equal(parseInteger('9007199254740992'), 9007199254740992n);
  assert.equal(parseInteger('9223372036854775807'), INT64_MAX);
  assert.equal(parseInteger('x'), null);
  assert.equal(parseInteger('0123'), null);
  assert.equal(parseLong('9223372036854775807'), 9223372036854775807);
  assert.equal(parseLong('-5'), -5);
  assert.equal(parseLong('1.5'), null);
  fc.assert(fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (b) => {
    const v = parseInteger(b.toString());
    assert.equal(BigInt(v!), b);
    assert.equal(parseInt64(b.toString()), b);
  }), { numRuns: 500 });
});

test('parseDouble follows strtod as Redis checks it (no spaces, no NaN, no ERANGE)', () => {
  const ok: Array<[string, number]> = [
    ['1', 1], ['-1.5', -1.5], ['+2', 2], ['.5', 0.5], ['1.', 1], ['1e3', 1000], ['1E-2', 0.01], ['inf', Infinity], ['-inf', -Infinity],
    ['+inf', Infinity], ['Infinity', Infinity], ['-INFINITY', -Infinity], ['0x10', 16], ['0x1.8p1', 3], ['4e-320', 4e-320], ['0e-400', 0],
    ['1e308', 1e308], ['-0', -0], ['1.7976931348623157e308', 1.7976931348623157e308],
  ];
  for (const [s, v] of ok) assert.equal(Object.is(parseDouble(s), v), true, `${s} -> ${parseDouble(s)}`);
  const bad = ['', ' 1', '1 ', 'nan', 'NaN', '-nan', '1e', '1e+', '.', '-', 'abc', '1.5x', '0x', 'infinit', '1e400', '-1e400', '1e-400',
    '1.7976931348623159e308', '0x1p-1080', '0x1p2000', '++1'];
  for (const s of bad) assert.equal(parseDouble(s), null, JSON.stringify(s));
});

/** Exact decimal digits and exponent of a finite nonzero double (reference for %g). */
function exactDecimal(d: number): { digits: string; exp: number } {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.abs(d));
  const bits = dv.getBigUint64(0);
  const be = Number((bits >> 52n) & 0x7ffn);
  let m = bits & ((1n << 52n) - 1n);
  let e: number;
  if (be === 0) e = -1074;
  else {
    m |= 1n << 52n;
    e = be - 1075;
  }
  // value = m * 2^e = N * 10^scale
  let N: bigint;
  let scale: number;
  if (e >= 0) {
    N = m << BigInt(e);
    scale = 0;
  } else {
    N = m * 5n ** BigInt(-e);
    scale = e;
  }
  const digits = N.toString();
  return { digits, exp: digits.length - 1 + scale };
}

/** Reference printf("%.<p>g"): exact digits rounded half to even. */
function refG(d: number, p: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  let { digits, exp } = exactDecimal(d);
  if (digits.length > p) {
    const keep = BigInt(digits.slice(0, p));
    const rest = digits.slice(p);
    const first = rest.charCodeAt(0) - 48;
    const tail = /[1-9]/.test(rest.slice(1));
    let r = keep;
    if (first > 5 || (first === 5 && (tail || (keep & 1n) === 1n))) r++;
    let s = r.toString();
    if (s.length > p) {
      exp++;
      s = s.slice(0, p);
    }
    digits = s;
  }
  const strip = (x: string): string => (x.includes('.') ? x.replace(/0+$/, '').replace(/\.$/, '') : x);
  const sign = d < 0 ? '-' : '';
  if (exp < -4 || exp >= p) {
    const mant = strip(digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits);
    const a = Math.abs(exp);
    return sign + mant + 'e' + (exp < 0 ? '-' : '+') + (a < 10 ? '0' + a : a);
  }
  const padded = digits.padEnd(p, '0');
  const fixed = exp >= 0
    ? padded.slice(0, exp + 1) + '.' + padded.slice(exp + 1)
    : '0.' + '0'.repeat(-exp - 1) + padded;
  return sign + strip(fixed);
}

test('formatDouble is %.17g, ties rounded to even as glibc does', () => {
  const known: Array<[number, string]> = [
    [0.1, '0.10000000000000001'], [1, '1'], [-1.5, '-1.5'], [1e21, '1e+21'], [1e-5, '1.0000000000000001e-05'], [123456789012345678, '1.2345678901234568e+17'],
    [5e-324, '4.9406564584124654e-324'], [1.00000762939453125, '1.0000076293945312'], [1e16, '10000000000000000'], [1e17, '1e+17'],
    [0.0001, '0.0001'], [0.00001, '1.0000000000000001e-05'], [Infinity, 'inf'], [-Infinity, '-inf'], [-0, '-0'], [0, '0'], [3.0, '3'],
    [1.7976931348623157e308, '1.7976931348623157e+308'], [2.5, '2.5'], [100, '100'], [-1.0000076293945312e-3, '-0.0010000076293945313'], [-1.00000762939453125, '-1.0000076293945312'],
  ];
  for (const [d, s] of known) assert.equal(formatDouble(d), s, String(d));
  fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
    assert.equal(formatDouble(d), refG(d, 17));
    assert.equal(Object.is(parseDouble(formatDouble(d)), d), true);
  }), { numRuns: 3000 });
  // short dyadic fractions are where exact ties live
  fc.assert(fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 17 }), (n, k, p) => {
    const d = n / 2 ** k;
    assert.equal(formatG(d, p), refG(d, p), `${d} %.${p}g`);
  }), { numRuns: 5000 });
});

// [stored value, increment, INCRBYFLOAT reply], from redis-server 7.0.15 on x86-64
const REDIS_INCRBYFLOAT: Array<[string, string, string]> = [
  ['10.5', '0.1', '10.6'],
  ['5010.6', '0', '5010.60000000000000009'],
  ['10.6', '5.0e3', '5010.60000000000000009'],
  ['0', '0.1', '0.1'],
  ['0.1', '0.2', '0.3'],
  ['1', '1e-17', '1.00000000000000001'],
  ['1', '5e-18', '1'],
  ['1', '1.5e-17', '1.00000000000000001'],
  ['-1', '1e-18', '-1'],
  ['3.0', '-3', '0'],
  ['1e20', '0.1', '100000000000000000000'],
  ['123456789012345678', '0.5', '123456789012345678.5'],
  ['9223372036854775807', '1', '9223372036854775808'],
  ['18446744073709551615', '1', '18446744073709551616'],
  ['-0', '-0', '0'],
  ['1.7976931348623157e308', '1.7976931348623157e308', '359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768'],
  ['0x1p-16445', '0', '0'],
  ['0x1.8p-16445', '0', '0'],
  ['1e-4950', '0', '0'],
  ['0.000003814697265625', '0', '0.00000381469726562'],
  ['0.000011444091796875', '0', '0.00001144409179688'],
  ['2.5', '0.000000000000000005', '2.5'],
  ['1', '-0.99999999999999999', '0.00000000000000001'],
  ['1e-10', '1e-10', '0.0000000002'],
  ['3.14159265358979323846264338327950288', '0', '3.14159265358979324'],
  ['-2.718281828459045235360287', '1', '-1.71828182845904524'],
  ['99999999999999999999', '1', '100000000000000000000'],
  ['0.30000000000000000001', '0', '0.3'],
  ['1.00000000000000000000000000000001', '0', '1'],
];

test('long double: INCRBYFLOAT results equal redis-server on x86-64', () => {
  for (const [a, b, want] of REDIS_INCRBYFLOAT) {
    const x = parseLongDouble(a);
    const y = parseLongDouble(b);
    assert.ok(x && y, `${a} ${b} parse`);
    const sum = addLongDouble(x, y);
    assert.ok(sum, `${a} + ${b} finite`);
    assert.equal(formatLongDoubleHuman(sum), want, `${a} + ${b}`);
  }
});

test('long double: parse refusals follow string2ld', () => {
  const bad = ['', ' 1', '1 ', 'nan', '-nan', 'x', '1e', '0x', '.', '1e5000', '-1e4933', '1e-4951', '1e-99999', '0x1p16384', '0x1p-16446',
    '1\x00', '0.' + '0'.repeat(5118), 'infinit'];
  for (const s of bad) assert.equal(parseLongDouble(s), null, JSON.stringify(s.slice(0, 20)));
  for (const s of ['inf', '-INF', 'Infinity', '+infinity']) assert.equal(parseLongDouble(s)?.inf, true, s);
  for (const s of ['0', '-0', '0e99999', '1e4932', '0x1p16383', '0x1p-16445', '3.6e-4951', '0.' + '0'.repeat(5117)]) {
    assert.notEqual(parseLongDouble(s), null, s.slice(0, 20));
  }
  assert.equal(addLongDouble(parseLongDouble('1e4932')!, parseLongDouble('1e4932')!), null, 'overflow is refused');
  assert.equal(addLongDouble(parseLongDouble('inf')!, parseLongDouble('1')!), null, 'infinity is refused');
});

test('long double: integers are exact and small decimals round-trip through %.17Lf', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 64n) + 1n, max: 2n ** 64n - 1n }), (b) => {
    const v = parseLongDouble(b.toString())!;
    assert.equal(formatLongDoubleHuman(v), b.toString());
    if (b >= INT64_MIN && b <= INT64_MAX) assert.deepEqual(formatLongDoubleHuman(longDoubleFromInt(b)), b.toString());
  }), { numRuns: 1000 });
  // |x| < 32 keeps the 64-bit significand's error below half of 1e-17
  fc.assert(fc.property(fc.integer({ min: -31, max: 31 }), fc.bigInt({ min: 0n, max: 10n ** 17n - 1n }), (i, f) => {
    const frac = f.toString().padStart(17, '0').replace(/0+$/, '');
    const s = (i < 0 ? '-' : '') + Math.abs(i) + (frac ? '.' + frac : '');
    const want = s === '-0' ? '0' : s;
    assert.equal(formatLongDoubleHuman(parseLongDouble(s)!), want);
  }), { numRuns: 2000 });
});

test('long double: addition is commutative, x + 0 = x, x + -x = 0', () => {
  const num = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.integer({ min: -40, max: 40 })).map(([m, e]) => `${m}e${e}`),
  );
  fc.assert(fc.property(num, num, (a, b) => {
    const x = parseLongDouble(a);
    const y = parseLongDouble(b);
    if (!x || !y) return;
    const s1 = addLongDouble(x, y);
    const s2 = addLongDouble(y, x);
    assert.deepEqual(s1, s2);
    assert.equal(formatLongDoubleHuman(addLongDouble(x, parseLongDouble('0')!)!), formatLongDoubleHuman(x));
    const negx = { ...x, neg: !x.neg };
    assert.equal(formatLongDoubleHuman(addLongDouble(x, negx)!), '0');
  }), { numRuns: 1000 });
});

test("formatFixed is printf's %.Nf: exact ties to even as glibc, everything else as toFixed", () => {
  // ties: the exact binary value ends in 5 right after the last kept decimal
  assert.equal(formatFixed(0.125, 2), '0.12');
  assert.equal(formatFixed(0.375, 2), '0.38');
  assert.equal(formatFixed(0.625, 2), '0.62');
  assert.equal(formatFixed(0.875, 2), '0.88');
  assert.equal(formatFixed(1.125, 2), '1.12');
  assert.equal(formatFixed(-0.125, 2), '-0.12');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(3.5, 0), '4');
  assert.equal(formatFixed(0.25, 1), '0.2');
  // not ties: 0.285 is 0.28499999999999998... and 1.005 is 1.00499999999999989...
  assert.equal(formatFixed(0.285, 2), '0.28');
  assert.equal(formatFixed(1.005, 2), '1.00');
  assert.equal(formatFixed(17 / 3, 2), '5.67');
  assert.equal(formatFixed(100, 2), '100.00');
  assert.equal(formatFixed(0, 2), '0.00');
});
