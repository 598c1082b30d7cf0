/**
 * Bit commands compared byte for byte with redis-server 7.0.15: SETBIT, GETBIT, BITCOUNT and
 * BITPOS (BYTE and BIT ranges), BITOP, BITFIELD (types, '#' offsets, OVERFLOW WRAP|SAT|FAIL)
 * and BITFIELD_RO, with their errors, plus random sequences (fast-check).
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair({ reset: 'inprocess' });
const { skip, reset, same, makeWrongType } = pair;

const W = (s: string): string[] => s.split(' ');

test('SETBIT and GETBIT', { skip }, async () => {
  await reset();
  await makeWrongType('lst');
  await same([
    'SETBIT a 7 1', 'GET a', 'SETBIT a 7 1', 'SETBIT a 7 0', 'GETBIT a 7', 'SETBIT a 100 1', 'STRLEN a', 'GETBIT a 100', 'GETBIT a 99',
    'GETBIT a 1000000', 'GETBIT nokey 5', 'SETBIT a -1 1', 'SETBIT a x 1', 'SETBIT a 4294967295 2', 'SETBIT a 4294967296 1',
    'SETBIT a 1 2', 'SETBIT a 1 -1', 'SETBIT a 1 x', 'SETBIT a 1 01', 'SETBIT a 1 1.0', 'GETBIT a -1', 'GETBIT a 4294967296',
    'GETBIT a 4294967295', 'GETBIT a x', 'SETBIT lst 1 1', 'GETBIT lst 1', 'SETBIT lst x 1', 'GETBIT lst x', 'SETBIT lst 1 5',
    'SET n 123', 'GETBIT n 2', 'GETBIT n 3', 'SETBIT n 7 0', 'GET n', 'SETBIT a #1 1', 'GETBIT a 9223372036854775807',
    'SETBIT a 9223372036854775808 1',
  ].map(W));
});

test('BITCOUNT with BYTE and BIT ranges', { skip }, async () => {
  await reset();
  await makeWrongType('lst');
  await same([
    'SET a foobar', 'BITCOUNT a', 'BITCOUNT a 0 0', 'BITCOUNT a 1 1', 'BITCOUNT a 1 1 BYTE', 'BITCOUNT a 5 30 BIT', 'BITCOUNT a 5 30 bit',
    'BITCOUNT a -1 -1', 'BITCOUNT a -5 -1 BIT', 'BITCOUNT a -1 -5', 'BITCOUNT a -1 -5 FOO', 'BITCOUNT a 0', 'BITCOUNT a 0 1 2 3',
    'BITCOUNT a 0 -1 FOO', 'BITCOUNT a x 1', 'BITCOUNT a 1 x', 'BITCOUNT a 0 100', 'BITCOUNT a 100 200', 'BITCOUNT a 0 47 BIT',
    'BITCOUNT a 0 48 BIT', 'BITCOUNT a 3 3 BIT', 'BITCOUNT a 9 9 BIT', 'BITCOUNT a 7 8 BIT', 'BITCOUNT a 1 0 BIT',
    'BITCOUNT a -9223372036854775808 9223372036854775807', 'BITCOUNT a -9223372036854775807 -9223372036854775808 BIT',
    'BITCOUNT nokey', 'BITCOUNT nokey 0', 'BITCOUNT nokey x y z', 'BITCOUNT lst', 'BITCOUNT lst 0', 'SET e ""', 'BITCOUNT e', 'BITCOUNT e 0 -1 BIT',
    'SET n 1234567', 'BITCOUNT n', 'BITCOUNT n 1 2',
  ].map(W));
});

test('BITPOS with BYTE and BIT ranges and the end-of-string rules', { skip }, async () => {
  await reset();
  await makeWrongType('lst');
  await same([
    ['SET', 'a', '\xff\xf0\x00'], ['SET', 'z', '\x00\x00\x00'], ['SET', 'o', '\xff\xff\xff'], ['SET', 'e', ''],
    ...[
      'BITPOS a 0', 'BITPOS a 1', 'BITPOS a 0 1', 'BITPOS a 0 2 -1', 'BITPOS a 1 2', 'BITPOS a 1 2 -1', 'BITPOS z 1', 'BITPOS z 0',
      'BITPOS o 0', 'BITPOS o 1', 'BITPOS o 0 0 -1', 'BITPOS o 0 0', 'BITPOS o 0 1 1', 'BITPOS o 0 0 -1 BIT', 'BITPOS o 0 0 23 BIT',
      'BITPOS o 0 5 BIT', 'BITPOS a 0 3 10 BIT', 'BITPOS a 1 3 10 BIT', 'BITPOS a 0 8 12 BIT', 'BITPOS a 0 12 14 BIT', 'BITPOS a 1 12 14 BIT',
      'BITPOS a 0 7 7 BIT', 'BITPOS a 1 7 7 BIT', 'BITPOS a 1 -3 -1 BIT', 'BITPOS a 0 -20 -1 BIT', 'BITPOS a 0 0 -1 BYTE', 'BITPOS a 0 1 0',
      'BITPOS a 1 5 2 BIT', 'BITPOS a 2', 'BITPOS a -1', 'BITPOS a x', 'BITPOS a 1 x', 'BITPOS a 1 0 x', 'BITPOS a 1 0 1 FOO', 'BITPOS a 1 0 x FOO',
      'BITPOS a 1 0 1 BIT x', 'BITPOS nokey 0', 'BITPOS nokey 1', 'BITPOS nokey 1 x y', 'BITPOS nokey 2', 'BITPOS lst 1', 'BITPOS lst 5',
      'BITPOS e 0', 'BITPOS e 1', 'BITPOS e 0 0', 'BITPOS e 0 0 -1 BIT', 'BITPOS a 0 100', 'BITPOS a 1 -100 -50',
      'BITPOS a 0 -9223372036854775808 9223372036854775807 BIT', 'BITPOS a 0 9223372036854775807',
    ].map(W),
  ]);
});

test('BITPOS and BITCOUNT match Redis on random strings and ranges (fast-check)', { skip }, async () => {
  await reset();
  const byte = fc.constantFrom(0x00, 0xff, 0x0f, 0xf0, 0x80, 0x01, 0x7f, 0xfe, 0x55);
  const cases = fc.sample(fc.tuple(fc.array(byte, { maxLength: 12 }), fc.integer({ min: -110, max: 110 }), fc.integer({ min: -110, max: 110 }),
    fc.constantFrom(0, 1), fc.constantFrom(0, 1, 2, 3)), { numRuns: 600, seed: 99 });
  const cmds: string[][] = [];
  for (const [bytes, s, e, bit, mode] of cases) {
    cmds.push(['SET', 'r', String.fromCharCode(...bytes)]);
    const tail = mode === 0 ? [] : mode === 1 ? [String(e)] : [String(e), mode === 2 ? 'BYTE' : 'BIT'];
    cmds.push(['BITPOS', 'r', String(bit), String(s), ...tail], ['BITPOS', 'r', String(bit)], ['BITCOUNT', 'r', String(s), String(e), ...(mode === 3 ? ['BIT'] : [])]);
  }
  await same(cmds);
});

test('BITOP AND OR XOR NOT', { skip }, async () => {
  await reset();
  await makeWrongType('lst');
  await same([
    ['SET', 'a', '\xff\x0f\xaa'], ['SET', 'b', '\x0f\xff'], ['SET', 'c', '\x01'],
    ...[
      'BITOP AND d a b', 'GET d', 'BITOP OR d a b c', 'GET d', 'BITOP XOR d a b c', 'GET d', 'BITOP NOT d a', 'GET d', 'BITOP not d c', 'GET d',
      'BITOP AND d a nokey', 'GET d', 'BITOP OR d nokey a', 'GET d', 'BITOP XOR d a a', 'GET d', 'BITOP AND d nokey nokey2', 'GET d',
      'BITOP AND d nokey', 'BITOP NOT d a b', 'BITOP NOT d', 'BITOP FOO d a', 'BITOP ANDx d a', 'BITOP AND d a lst', 'BITOP AND d lst a',
      'BITOP AND lst a', 'GET lst', 'BITOP OR a a b', 'GET a', 'BITOP AND d', 'BITOP NOT d nokey', 'SET e ""', 'BITOP OR d e', 'GET d',
    ].map(W),
  ]);
  const big = fc.sample(fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 70 }), { minLength: 1, maxLength: 4 }), { numRuns: 60, seed: 3 });
  const cmds: string[][] = [];
  for (const srcs of big) {
    srcs.forEach((s, i) => cmds.push(['SET', 's' + i, String.fromCharCode(...s)]));
    const names = srcs.map((_, i) => 's' + i);
    for (const op of ['AND', 'OR', 'XOR']) cmds.push(['BITOP', op, 'dst', ...names], ['GET', 'dst']);
    cmds.push(['BITOP', 'NOT', 'dst', 's0'], ['GET', 'dst']);
  }
  await same(cmds);
});

test('BITFIELD GET SET INCRBY with OVERFLOW WRAP SAT FAIL', { skip }, async () => {
  await reset();
  await makeWrongType('lst');
  const cmds = [
    'BITFIELD a SET u8 0 255 GET u8 0', 'BITFIELD a INCRBY u8 0 1', 'BITFIELD a OVERFLOW SAT INCRBY u8 0 300', 'BITFIELD a OVERFLOW FAIL INCRBY u8 0 1',
    'BITFIELD a OVERFLOW WRAP INCRBY u8 0 1', 'BITFIELD a INCRBY i8 0 -200', 'BITFIELD a OVERFLOW SAT INCRBY i8 0 -200 INCRBY i8 0 500',
    'BITFIELD a OVERFLOW FAIL INCRBY i8 0 -200 INCRBY i8 0 1', 'BITFIELD a SET i5 3 -16 GET i5 3 GET u5 3 SET i5 3 16', 'GET a',
    'BITFIELD a OVERFLOW SAT SET i5 3 100 SET u3 13 -5 SET u3 13 9', 'BITFIELD a OVERFLOW FAIL SET i5 3 100 SET u3 13 -5 SET u3 13 7',
    'BITFIELD a GET i64 0 GET u63 0 GET i1 0 GET u1 0 GET i64 3', 'BITFIELD a SET i64 0 -9223372036854775808 GET i64 0 GET u63 1',
    'BITFIELD a INCRBY i64 0 -1', 'BITFIELD a OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 9223372036854775807 INCRBY i64 0 1',
    'BITFIELD a OVERFLOW WRAP INCRBY i64 0 9223372036854775807 INCRBY i64 0 2', 'BITFIELD a OVERFLOW FAIL INCRBY i64 0 9223372036854775807',
    'BITFIELD a SET u63 1 9223372036854775807 OVERFLOW SAT INCRBY u63 1 5 OVERFLOW WRAP INCRBY u63 1 5', 'BITFIELD a INCRBY u63 1 -9223372036854775808',
    'BITFIELD a OVERFLOW SAT INCRBY u63 1 -9223372036854775808', 'BITFIELD a OVERFLOW SAT SET u8 0 -1 SET u8 0 -300',
    'BITFIELD b SET u8 #1 7 GET u8 #1 GET u8 8 INCRBY u4 #3 1', 'GET b', 'BITFIELD b GET u8 #0 GET i16 #-1',
    'BITFIELD b GET u64 0', 'BITFIELD b GET i65 0', 'BITFIELD b GET i0 0', 'BITFIELD b GET U8 0', 'BITFIELD b GET x8 0', 'BITFIELD b GET u 0',
    'BITFIELD b GET u08 0', 'BITFIELD b GET u8', 'BITFIELD b GET', 'BITFIELD b SET u8 0', 'BITFIELD b INCRBY u8 0', 'BITFIELD b OVERFLOW',
    'BITFIELD b OVERFLOW foo GET u8 0', 'BITFIELD b FOO', 'BITFIELD b GET u8 -1', 'BITFIELD b GET u8 x', 'BITFIELD b GET u8 4294967296',
    'BITFIELD b GET u8 4294967295', 'BITFIELD b GET u8 #536870912', 'BITFIELD b GET u8 #536870911', 'BITFIELD b GET i64 #67108864',
    'BITFIELD b GET u8 ##1', 'BITFIELD b GET u8 #', 'BITFIELD b SET u8 0 x', 'BITFIELD b SET u8 0 1.5', 'BITFIELD b INCRBY u8 0 9223372036854775808',
    'BITFIELD b get u8 0 set u8 0 9 incrby u8 0 1 overflow sat', 'BITFIELD b', 'BITFIELD nokey GET u8 0 GET i3 5', 'BITFIELD nokey',
    'BITFIELD nokey OVERFLOW FAIL INCRBY u2 10 100', 'GET nokey', 'BITFIELD nokey2 OVERFLOW FAIL SET i2 0 100', 'GET nokey2',
    'BITFIELD lst GET u8 0', 'BITFIELD lst SET u8 0 1', 'BITFIELD lst GET u99 0', 'BITFIELD lst', 'BITFIELD b GET u8 #9223372036854775807',
    'BITFIELD b GET i64 #144115188075855872', 'BITFIELD b SET u8 0 1 GET u8 #x',
    'BITFIELD_RO b GET u8 0 GET i4 4', 'BITFIELD_RO b SET u8 0 1', 'BITFIELD_RO b INCRBY u8 0 1', 'BITFIELD_RO b GET u64 0', 'BITFIELD_RO b',
    'BITFIELD_RO nokey GET u8 0', 'BITFIELD_RO lst GET u8 0', 'BITFIELD_RO b OVERFLOW SAT GET u8 0', 'BITFIELD_RO b SET u8 0 1 GET u99 0',
    'SET n 12345', 'BITFIELD n GET u8 0 GET u16 8 SET u8 0 65', 'GET n',
  ];
  await same(cmds.map(W));
  await same(['BITFIELD a OVERFLOW FAIL INCRBY u8 0 1000 GET u8 0', 'BITFIELD a GET i8 0', 'BITFIELD_RO nokey GET u8 0'].map(W), true);
  await same([['BITFIELD', 'a', 'get\x00x', 'u8', '0'], ['BITFIELD', 'a', 'GET', 'u8\x00x', '0'], ['BITFIELD', 'a', 'OVERFLOW', 'sat\x00', 'GET', 'u8', '0'],
    ['BITOP', 'and\x00', 'd', 'a'], ['BITCOUNT', 'a', '0', '1', 'bit\x00'], ['BITPOS', 'a', '0', '0', '1', 'byte\x00']]);
});

test('BITFIELD matches Redis on random operation lists (fast-check)', { skip }, async () => {
  await reset();
  const type = fc.oneof(fc.integer({ min: 1, max: 64 }).map((n) => 'i' + n), fc.integer({ min: 1, max: 63 }).map((n) => 'u' + n));
  const val = fc.oneof(fc.integer({ min: -300, max: 300 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(String);
  const op = fc.oneof(
    fc.tuple(type, fc.integer({ min: 0, max: 100 })).map(([t, o]) => ['GET', t, String(o)]),
    fc.tuple(type, fc.integer({ min: 0, max: 100 }), val).map(([t, o, v]) => ['SET', t, String(o), v]),
    fc.tuple(type, fc.integer({ min: 0, max: 100 }), val).map(([t, o, v]) => ['INCRBY', t, String(o), v]),
    fc.tuple(type, fc.integer({ min: 0, max: 10 })).map(([t, o]) => ['GET', t, '#' + o]),
    fc.constantFrom('WRAP', 'SAT', 'FAIL').map((m) => ['OVERFLOW', m]),
  );
  const lists = fc.sample(fc.array(op, { minLength: 1, maxLength: 6 }), { numRuns: 400, seed: 11 });
  const cmds: string[][] = [];
  for (const l of lists) cmds.push(['BITFIELD', 'f', ...l.flat()], ['GET', 'f']);
  await same(cmds);
});
