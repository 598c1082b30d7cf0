/**
 * String commands compared byte for byte with redis-server 7.0.15 (RESP2, and RESP3 where the
 * reply shape differs): every command, option combination, error text, integer overflow,
 * INCRBYFLOAT's long double results on many random values, LCS, limits.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair({ reset: 'inprocess' });
const { skip, reset, same, makeWrongType } = pair;

const has = (name: string): boolean => pair.amber.server.commands.has(name);
const W = (s: string): string[] => s.split(' ');

test('GET / SET basics, binary values, wrong type', { skip }, async () => {
  await reset();
  await makeWrongType('lst');
  await same([
    W('GET nokey'), W('SET k v'), W('GET k'), ['SET', 'bin\x00\r\n\xff', 'a\x00b\r\n\xfe\xff'], ['GET', 'bin\x00\r\n\xff'],
    ['SET', 'empty', ''], W('GET empty'), W('STRLEN empty'), W('GET lst'), W('SET lst v'), W('GET lst'),
  ]);
  await makeWrongType('l2');
  await same(['GET l2', 'GETSET l2 v', 'GETDEL l2', 'GETEX l2', 'GETEX l2 EX 0', 'STRLEN l2', 'APPEND l2 x', 'INCR l2',
    'INCRBYFLOAT l2 1', 'GETRANGE l2 0 1', 'SETRANGE l2 0 x', 'SETRANGE l2 0 ""', 'SET l2 v GET', 'MGET l2 k nokey', 'SETNX l2 v',
    'GETRANGE l2 x 1', 'SETRANGE l2 x x', 'INCRBY l2 x', 'DECRBY l2 x', 'LCS l2 k', 'LCS k l2', 'SET l2 v NX', 'MSETNX l2 v',
    'SET l2 v XX GET', 'GET l2'].map(W));
  await same([W('GET nokey'), W('GET k'), W('MGET k nokey lst')], true);
});

test('SET options: NX XX GET EX PX EXAT PXAT KEEPTTL and their syntax errors', { skip }, async () => {
  await reset();
  const cmds = [
    'SET a 1 NX', 'SET a 2 NX', 'GET a', 'SET b 1 XX', 'GET b', 'SET a 3 XX', 'GET a',
    'SET a 4 GET', 'SET nokey1 4 GET', 'GET nokey1', 'SET a 5 NX GET', 'SET nx2 5 NX GET', 'SET a 6 XX GET', 'SET xx2 6 XX GET',
    'SET a v get get', 'SET a v GET NX', 'SET a v nx xx', 'SET a v xx nx', 'SET a v EX', 'SET a v EX 10 PX 10',
    'SET a v EX 10 EX 10', 'SET a v PX 10 PX 10', 'SET a v KEEPTTL EX 10', 'SET a v EX 10 KEEPTTL', 'SET a v PXAT 10 EXAT 10',
    'SET a v EXAT 1 PX 5', 'SET a v KEEPTTL KEEPTTL', 'SET a v PERSIST', 'SET a v foo', 'SET a v nxx', 'SET a v n',
    'SET a v EX 0', 'SET a v EX -1', 'SET a v PX 0', 'SET a v EXAT 0', 'SET a v PXAT -5', 'SET a v EX abc', 'SET a v EX 1.5',
    'SET a v EX 9223372036854775807', 'SET a v EX 9223372036854775', 'SET a v EX 9223372036854776', 'SET a v PX 9223372036854775807',
    'SET a v PX 9223372036854775000', 'SET a v EX 99999999999999999999', 'SET a v PXAT 9223372036854775807', 'GET a',
    'SET a v ex 100', 'SET a v px 100000', 'SET a v exat 99999999999', 'SET a v pxat 99999999999999', 'SET a v KEEPTTL', 'GET a',
    'SET a v EX 100 NX', 'SET a v EX 100 XX GET', 'SET nk v EX 100 XX', 'GET nk',
    'SET past v EXAT 1', 'GET past', 'SET past v PXAT 1 GET', 'SET past v', 'SET past w PXAT 1 GET', 'GET past', 'SET Past v Nx Ex 5',
    'set a v pX 100 get', 'SET a v EXAT 1 GET NX', 'GET a',
  ];
  await same(cmds.map(W));
  // options are compared as C strings: an embedded NUL ends them
  await same([['SET', 'z', 'v', 'nx\x00junk'], ['SET', 'z', 'v', 'get\x00'], ['SET', 'z', 'v', 'EX\x00', '100'], ['GETEX', 'z', 'persist\x00x'],
    ['SET', 'z', 'v', 'n\x00x'], ['LCS', 'z', 'z', 'len\x00']]);
  await same(['SET a 1 NX GET', 'SET a v EX 0', 'SET zz v XX GET'].map(W), true);
  if (has('ttl')) {
    await same(['SET t v EX 100', 'TTL t', 'SET t v2 KEEPTTL', 'TTL t', 'SET t v3', 'TTL t', 'SET t v PX 50000', 'TTL t',
      'SET t v EXAT 99999999999', 'TTL t', 'SET t v GET EX 1000', 'TTL t', 'SET t v XX KEEPTTL GET', 'TTL t'].map(W));
  }
});

test('SETNX SETEX PSETEX GETSET GETDEL MSET MSETNX MGET', { skip }, async () => {
  await reset();
  const cmds = [
    'SETNX a 1', 'SETNX a 2', 'GET a', 'SETEX b 100 v', 'GET b', 'SETEX b 0 v', 'SETEX b -1 v', 'SETEX b x v', 'SETEX b 9223372036854775807 v',
    'PSETEX c 100000 v', 'GET c', 'PSETEX c 0 v', 'PSETEX c x v', 'PSETEX c 9223372036854775807 v', 'SETEX b', 'SETNX a',
    'GETSET a 10', 'GETSET nokey 10', 'GET nokey', 'GETDEL a', 'GETDEL a', 'GET a',
    'MSET x 1 y 2 z 3', 'MGET x y z nokey', 'MSET x', 'MSET x 1 y', 'MSET x 9 x 10', 'GET x',
    'MSETNX x 1 q 2', 'GET q', 'MSETNX q 1 r 2', 'MGET q r', 'MSETNX s 1 s 2', 'GET s', 'MSETNX s', 'MSETNX s 1 t',
    'MGET', 'MGET x',
  ];
  await same(cmds.map(W));
  await same(['MGET x nokey', 'GETDEL nokey', 'GETSET nokey2 v'].map(W), true);
  if (has('ttl')) await same(['SETEX e 100 v', 'TTL e', 'GETSET e v2', 'TTL e', 'PSETEX e 100000 v', 'TTL e'].map(W));
});

test('GETEX options, errors and effects', { skip }, async () => {
  await reset();
  const cmds = [
    'SET a v', 'GETEX a', 'GETEX nokey', 'GETEX nokey EX 0', 'GETEX nokey FOO', 'GETEX a EX 100', 'GETEX a PX 100000',
    'GETEX a EXAT 99999999999', 'GETEX a PXAT 99999999999999', 'GETEX a PERSIST', 'GETEX a PERSIST', 'GETEX a EX 0', 'GETEX a EX -5',
    'GETEX a EX x', 'GETEX a PX', 'GETEX a EX 1 PX 1', 'GETEX a PERSIST EX 1', 'GETEX a EX 1 PERSIST', 'GETEX a KEEPTTL',
    'GETEX a NX', 'GETEX a GET', 'GETEX a EX 9223372036854775807', 'GETEX a PX 9223372036854775807', 'GET a',
    'GETEX a EXAT 1', 'GET a', 'SET b v', 'GETEX b PXAT 1', 'GET b', 'GETEX a persist persist',
  ];
  await same(cmds.map(W));
  if (has('ttl')) await same(['SET c v', 'GETEX c EX 100', 'TTL c', 'GETEX c PERSIST', 'TTL c', 'GETEX c PX 5000', 'TTL c'].map(W));
});

test('APPEND STRLEN GETRANGE SUBSTR SETRANGE', { skip }, async () => {
  await reset();
  const cmds = [
    'APPEND a hello', 'APPEND a world', 'GET a', 'STRLEN a', 'STRLEN nokey', 'APPEND b ""', 'APPEND e', 'SET n 123', 'APPEND n 4', 'GET n',
    'GETRANGE a 0 4', 'GETRANGE a -5 -1', 'GETRANGE a -1 -5', 'GETRANGE a 5 2', 'GETRANGE a 0 -1', 'GETRANGE a 0 100', 'GETRANGE a -100 2',
    'GETRANGE a 100 200', 'GETRANGE a -100 -50', 'GETRANGE a 3 3', 'GETRANGE nokey 0 -1', 'GETRANGE a x 1', 'GETRANGE a 1 x',
    'GETRANGE a 0 9223372036854775807', 'GETRANGE a -9223372036854775808 -1', 'GETRANGE a -9223372036854775807 -9223372036854775808',
    'GETRANGE a 9223372036854775808 1', 'SUBSTR a 1 3', 'SUBSTR a -3 -1', 'SUBSTR nokey 0 1',
    'SET e ""', 'GETRANGE e 0 -1', 'GETRANGE e 0 0', 'GETRANGE e -1 0',
    'SETRANGE s 5 abc', 'GET s', 'SETRANGE s 0 XY', 'GET s', 'SETRANGE s 7 ZZZZ', 'GET s', 'SETRANGE s 20 ""', 'GET s',
    'SETRANGE nk 0 ""', 'GET nk', 'SETRANGE nk 100 ""', 'SETRANGE s -1 x', 'SETRANGE s x x', 'SETRANGE s 9223372036854775807 x',
    'SETRANGE s 536870912 x', 'SETRANGE s 536870911 ""', 'SETRANGE nk2 536870912 x', 'SETRANGE s 2 ""', 'STRLEN s',
    'SETRANGE n 1 9', 'GET n', 'SETRANGE n 2 "', 'GET n',
  ];
  await same(cmds.map(W));
  await same(['GETRANGE a 0 2', 'GETRANGE nokey 0 2', 'GETRANGE a 5 2'].map(W), true);
});

test('string length limit follows proto-max-bulk-len', { skip }, async () => {
  await reset();
  const big = 'x'.repeat(1024 * 1024 - 10);
  const setLimit = async (v: string): Promise<void> => {
    const cfg = pair.amber.server.config;
    cfg.setFromArgs(cfg.find('proto-max-bulk-len')!, [v], false);
    await pair.cr.call('CONFIG', 'SET', 'proto-max-bulk-len', v);
  };
  await setLimit('1mb');
  await same([['SET', 'a', big], W('APPEND a 0123456789'), W('APPEND a x'), W('STRLEN a'), W('SETRANGE a 1048575 x'),
    W('SETRANGE a 1048576 x'), W('SETRANGE nk 1048576 x'), W('SETRANGE nk 1048575 x'), W('STRLEN nk'), W('SETBIT b 8388607 1'), W('SETBIT b 8388608 1'),
    W('GETBIT b 8388608'), W('BITFIELD b GET u8 8388608'), W('BITFIELD b SET u8 8388600 1'), W('BITFIELD b SET u8 8388601 1'),
    W('LCS a nk LEN')]);
  await setLimit('512mb');
});

test('INCR DECR INCRBY DECRBY: exact int64, overflow, TTL kept', { skip }, async () => {
  await reset();
  const cmds = [
    'INCR a', 'INCR a', 'DECR a', 'DECR a', 'DECR a', 'INCRBY a 100', 'DECRBY a 50', 'INCRBY a -3', 'DECRBY a -3', 'GET a',
    'SET m 9223372036854775806', 'INCR m', 'INCR m', 'GET m', 'INCRBY m 0', 'DECRBY m 9223372036854775807', 'DECRBY m 1', 'GET m',
    'SET m -9223372036854775807', 'DECR m', 'DECR m', 'INCRBY m -1', 'INCRBY m 9223372036854775807', 'INCRBY m 9223372036854775807',
    'SET m 9007199254740991', 'INCR m', 'INCR m', 'INCRBY m 9007199254740991', 'DECRBY m 18014398509481983', 'DECRBY m 9007199254740993',
    'SET m -9007199254740991', 'DECR m', 'DECRBY m -1', 'INCRBY m -9007199254740993',
    'DECRBY m -9223372036854775808', 'DECRBY a -9223372036854775808', 'INCRBY a -9223372036854775808', 'INCRBY a 9223372036854775808',
    'INCRBY a x', 'INCRBY a 1.5', 'INCRBY a " 1"', 'INCRBY a +1', 'INCRBY a 01', 'INCRBY a -0', 'INCRBY a ""', 'DECRBY a x',
    'SET s abc', 'INCR s', 'SET s 1.5', 'INCR s', 'SET s " 1"', 'INCR s', 'SET s 01', 'INCR s', 'SET s +1', 'INCR s', 'SET s -0', 'INCR s',
    'SET s 99999999999999999999', 'INCR s', 'SET s ""', 'INCR s', 'SET s 0', 'INCR s', 'DECR s', 'DECR s',
    'SET s 123456789012345678', 'INCRBY s 1', 'DECRBY s 123456789012345679', 'INCRBY nokey2 -5', 'DECRBY nokey3 -5',
  ];
  await same(cmds.map((s) => W(s).map((x) => (x === '""' ? '' : x === '" 1"' ? ' 1' : x))));
  await same([['SET', 'sp', ' 1'], W('INCR sp'), W('INCRBY sp 1'), ['INCRBY', 'a', ' 1'], ['SET', 'z', '1\x00'], W('INCR z')]);
  if (has('ttl')) await same(['SET t 5 EX 100', 'INCR t', 'TTL t', 'DECRBY t 3', 'TTL t', 'INCRBYFLOAT t 1.5', 'TTL t'].map(W));
});

test('INCRBYFLOAT: long double results and formatting', { skip }, async () => {
  await reset();
  const cmds = [
    'SET k 10.5', 'INCRBYFLOAT k 0.1', 'INCRBYFLOAT k 5.0e3', 'INCRBYFLOAT k -5010.6', 'INCRBYFLOAT k 1e20', 'INCRBYFLOAT k -1e20',
    'INCRBYFLOAT n 3', 'INCRBYFLOAT n 1.0', 'INCRBYFLOAT n -4', 'GET n', 'INCRBYFLOAT n 0', 'INCRBYFLOAT n -0', 'INCRBYFLOAT n 1e-18',
    'INCRBYFLOAT n -1e-17', 'INCRBYFLOAT n 0.000003814697265625', 'SET n 0', 'INCRBYFLOAT n 0.000011444091796875',
    'SET k -0', 'INCRBYFLOAT k -0', 'SET k 1.7976931348623157e308', 'INCRBYFLOAT k 1.7976931348623157e308', 'INCRBYFLOAT k 1e4000',
    'INCRBYFLOAT k 1e4932', 'INCRBYFLOAT k 2e4932', 'INCRBYFLOAT k inf', 'INCRBYFLOAT k -inf', 'INCRBYFLOAT k INFINITY', 'INCRBYFLOAT k nan',
    'INCRBYFLOAT k NaN', 'INCRBYFLOAT k x', 'INCRBYFLOAT k 1e', 'INCRBYFLOAT k 1e+', 'INCRBYFLOAT k .', 'INCRBYFLOAT k -',
    'INCRBYFLOAT k 0x10', 'INCRBYFLOAT k 0x1.8p1', 'INCRBYFLOAT k 0X.8P-1', 'INCRBYFLOAT k 0x', 'INCRBYFLOAT k 0x1p', 'INCRBYFLOAT k 1e-4951',
    'INCRBYFLOAT k 1e-4950', 'INCRBYFLOAT k 3.6e-4951', 'INCRBYFLOAT k 1.82e-4951', 'INCRBYFLOAT k +1.5', 'INCRBYFLOAT k 1.', 'INCRBYFLOAT k .5',
    'INCRBYFLOAT k 1e-99999', 'INCRBYFLOAT k 0e99999', 'INCRBYFLOAT k 1E2', 'INCRBYFLOAT k infinit', 'INCRBYFLOAT k -infinity',
    'SET s inf', 'INCRBYFLOAT s 1', 'SET s abc', 'INCRBYFLOAT s 1', 'SET s 1e5000', 'INCRBYFLOAT s 1', 'SET s 0x1p-16445', 'INCRBYFLOAT s 0',
    'SET s 0x1p-16446', 'INCRBYFLOAT s 0', 'SET s 0x1.8p-16445', 'INCRBYFLOAT s 0', 'SET s 0x1p16383', 'INCRBYFLOAT s 0', 'INCRBYFLOAT s 0x1p16383',
    'SET s 9223372036854775807', 'INCRBYFLOAT s 1', 'SET s 18446744073709551615', 'INCRBYFLOAT s 0', 'INCRBYFLOAT s 1',
    'SET s 0.1', 'INCRBYFLOAT s 0.2', 'SET s 1', 'INCRBYFLOAT s 1e-17', 'INCRBYFLOAT s 5e-18', 'INCRBYFLOAT s -3',
  ];
  await same(cmds.map(W));
  await same([['SET', 's', ' 1'], W('INCRBYFLOAT s 1'), ['SET', 's', '1 '], W('INCRBYFLOAT s 1'), ['INCRBYFLOAT', 's', ''],
    ['INCRBYFLOAT', 's', ' 1'], ['INCRBYFLOAT', 's', '1\x00'], ['SET', 's', '\x00'], W('INCRBYFLOAT s 1'), ['SET', 's', '1\x002'], W('INCRBYFLOAT s 1')]);
  // length limit of string2ld (MAX_LONG_DOUBLE_CHARS = 5120)
  const z = '0'.repeat(5117);
  await same([W('SET l 1'), ['INCRBYFLOAT', 'l', '0.' + z], ['INCRBYFLOAT', 'l', '0.' + z + '1'], ['INCRBYFLOAT', 'l', '1.' + z + '1'],
    ['SET', 'l', '1' + '0'.repeat(4000) + '.' + '0'.repeat(1000)], W('INCRBYFLOAT l 1')]);
  await same([W('INCRBYFLOAT k 1.5'), W('INCRBYFLOAT k x')], true);
});

test('INCRBYFLOAT matches Redis on random values (fast-check)', { skip }, async () => {
  await reset();
  const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
  const decimal = fc.oneof(
    fc.tuple(fc.constantFrom('', '-', '+'), digits(1, 12), fc.option(digits(0, 20)), fc.option(fc.integer({ min: -30, max: 30 }))).map(
      ([s, i, f, e]) => s + i + (f === null ? '' : '.' + f) + (e === null ? '' : 'e' + e)),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => d.toFixed(10)),
    fc.integer({ min: -1000000, max: 1000000 }).map((n) => (n / 1000).toString()),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => n.toString()),
    fc.tuple(digits(1, 30), fc.integer({ min: -5000, max: 5000 })).map(([d, e]) => d + 'e' + e),
    fc.tuple(fc.constantFrom('', '-'), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 1, maxLength: 20 }),
      fc.integer({ min: -16540, max: 16400 })).map(([s, h, p]) => `${s}0x${h.slice(0, 1)}.${h.slice(1)}p${p}`),
  );
  const pairs = fc.sample(fc.tuple(decimal, decimal, decimal), { numRuns: 1500, seed: 4242 });
  const cmds: string[][] = [];
  for (const [a, b, c] of pairs) cmds.push(['SET', 'f', a], ['INCRBYFLOAT', 'f', b], ['INCRBYFLOAT', 'f', c], ['GET', 'f']);
  for (let i = 0; i < cmds.length; i += 2000) await same(cmds.slice(i, i + 2000));
});

test('LCS: plain, LEN, IDX, MINMATCHLEN, WITHMATCHLEN in RESP2 and RESP3', { skip }, async () => {
  await reset();
  await makeWrongType('lst');
  const setup = [['SET', 'a', 'ohmytext'], ['SET', 'b', 'mynewtext'], ['SET', 'c', 'rxdjbeoaddjahdxeaodaaooeaxmaxrb'], ['SET', 'd', 'dxxpxxxaaddxadxedeedr']];
  const q = [
    'LCS a b', 'LCS a b LEN', 'LCS a b IDX', 'LCS a b IDX WITHMATCHLEN', 'LCS a b IDX MINMATCHLEN 4', 'LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN',
    'LCS a b IDX MINMATCHLEN -3', 'LCS a b LEN IDX', 'LCS a b IDX LEN', 'LCS a b MINMATCHLEN', 'LCS a b MINMATCHLEN x', 'LCS a b FOO',
    'LCS a nokey', 'LCS nokey nokey2', 'LCS nokey a IDX', 'LCS a nokey LEN', 'LCS a a IDX WITHMATCHLEN', 'LCS c d', 'LCS c d IDX WITHMATCHLEN',
    'LCS d c IDX MINMATCHLEN 2 WITHMATCHLEN', 'LCS a lst', 'LCS lst a', 'LCS lst a FOO', 'LCS a b withmatchlen', 'LCS a b MINMATCHLEN 2 len',
    'LCS a b IDX MINMATCHLEN 9223372036854775807', 'LCS a b IDX MINMATCHLEN 9223372036854775808',
  ];
  await same([...setup, ...q.map(W)]);
  await same(q.map(W), true);
  const rnd = fc.sample(fc.tuple(fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 30 }), fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 30 })), { numRuns: 200, seed: 7 });
  const cmds: string[][] = [];
  for (const [x, y] of rnd) cmds.push(['SET', 'x', x], ['SET', 'y', y], W('LCS x y'), W('LCS x y IDX WITHMATCHLEN'), W('LCS x y IDX MINMATCHLEN 2'));
  await same(cmds);
});

test('LCS refuses tables beyond proto-max-bulk-len', { skip }, async () => {
  await reset();
  await same([W('SETRANGE a 11999 x'), W('SETRANGE b 11999 y'), W('LCS a b LEN'), W('SETRANGE c 3000 x'), W('LCS a c LEN')]);
});

test('RESP3: null and integer replies of string commands', { skip }, async () => {
  await reset();
  await same(['SET a 1', 'SET a 2 NX', 'SETNX a 3', 'MSETNX a 1', 'INCR a', 'GETEX nokey', 'GETDEL nokey', 'SET a 5 XX GET',
    'APPEND a x', 'STRLEN a', 'SETRANGE a 0 z', 'LCS a a LEN'].map(W), true);
});

test('OBJECT ENCODING of strings built in place (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP, PFADD, PFMERGE, INCRBYFLOAT) and after COPY, RENAME, MOVE, DEBUG RELOAD', { skip }, async () => {
  await reset();
  const enc = (k: string): string[] => ['OBJECT', 'ENCODING', k];
  await same([
    W('SET s abc'), enc('s'), W('APPEND s x'), enc('s'), W('APPEND n abc'), enc('n'), W('APPEND n2 123'), enc('n2'),
    W('APPEND n2 4'), enc('n2'), W('GET n2'), W('SET i 12'), W('APPEND i 3'), enc('i'),
    W('SETRANGE r 0 abc'), enc('r'), ['SETRANGE', 'r2', '0', ''], W('EXISTS r2'), W('SET e abc'), ['SETRANGE', 'e', '0', ''], enc('e'),
    W('SETRANGE e 1 z'), enc('e'), W('SET e2 123'), W('OBJECT REFCOUNT e2'), W('SETRANGE e2 0 4'), enc('e2'), W('OBJECT REFCOUNT e2'),
    W('SETBIT b 1 1'), enc('b'), W('SET b2 abc'), W('GETBIT b2 1'), enc('b2'), W('SETBIT b2 1 1'), enc('b2'),
    W('SET b3 1'), W('SETBIT b3 0 0'), enc('b3'),
    W('BITFIELD f SET u8 0 1'), enc('f'), W('SET f2 abc'), W('BITFIELD f2 GET u8 0'), enc('f2'), W('BITFIELD_RO f2 GET u8 0'), enc('f2'),
    W('BITFIELD f2 INCRBY u8 0 1'), enc('f2'), W('SET f3 abc'), W('BITFIELD f3 OVERFLOW FAIL'), enc('f3'),
    W('BITOP AND o b b2'), enc('o'), W('BITOP NOT o2 b3'), enc('o2'),
    W('PFADD h a'), enc('h'), W('PFADD h a'), enc('h'), W('PFMERGE d h'), enc('d'), W('PFCOUNT h'), enc('h'),
    W('INCRBYFLOAT x 1'), enc('x'), W('INCRBYFLOAT x 0.5'), enc('x'), W('INCR i2'), enc('i2'), W('INCRBY x2 5'), enc('x2'),
    W('COPY s s3'), enc('s3'), W('RENAME s s4'), enc('s4'), W('MOVE s4 1'), W('SELECT 1'), enc('s4'), W('SELECT 0'),
    W('EXPIRE r 100'), enc('r'), W('PERSIST r'), enc('r'), W('GETEX r EX 100'), enc('r'),
    W('GETSET r abc'), enc('r'), W('SETRANGE r 0 x'), W('SET r abc KEEPTTL'), enc('r'),
    W('SETBIT big 400 1'), enc('big'), W('SET big2 ' + 'y'.repeat(50)), enc('big2'), W('APPEND big2 z'), enc('big2'),
  ]);
  // a reload builds every string again by its length and content, as RDB loading does
  await same([W('DEBUG RELOAD'), enc('s3'), enc('n2'), enc('r'), enc('b'), enc('h'), enc('x'), enc('big'), W('PFCOUNT h'), enc('h'),
    W('PFADD h b'), enc('h'), W('PFADD h2 a'), W('DEBUG RELOAD'), enc('h2'), W('PFDEBUG ENCODING h2'), enc('h2')]);
  // SWAPDB and FLUSHDB carry and drop what they hold
  await same([W('SETRANGE sw 0 abc'), W('SWAPDB 0 2'), W('SELECT 2'), enc('sw'), W('SELECT 0'), enc('sw'), W('SWAPDB 0 2'),
    enc('sw'), W('FLUSHDB'), W('SET sw abc'), enc('sw')]);
});
