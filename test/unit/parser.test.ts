import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser, ProtocolError } from '../../src/protocol/parser.js';
import { splitArgs } from '../../src/protocol/splitargs.js';

function parseAll(chunks: Buffer[], limits = { maxBulkLen: 512 * 1024 * 1024, authRequired: false }): string[][] {
  const p = new RequestParser(limits);
  const out: string[][] = [];
  for (const ch of chunks) {
    p.feed(ch);
    for (let a = p.next(); a !== null; a = p.next()) out.push(a);
  }
  return out;
}

const stream = Buffer.from(
  '*3\r\n$3\r\nSET\r\n$3\r\nk\x00y\r\n$5\r\nv\r\n\xff!\r\n' + 'PING\r\n' + 'set "a b" \'c\\\'d\'\n' + '\r\n' + '*0\r\n' + '*1\r\n$4\r\nPING\r\n',
  'latin1',
);
const expected = [['SET', 'k\x00y', 'v\r\n\xff!'], ['PING'], ['set', 'a b', "c'd"], ['PING']];

test('a pipelined stream parses the same at every split point', () => {
  for (let i = 0; i <= stream.length; i++) {
    assert.deepEqual(parseAll([stream.subarray(0, i), stream.subarray(i)]), expected, `split at ${i}`);
  }
});

test('a stream fed byte by byte parses the same', () => {
  const chunks = [...stream].map((b) => Buffer.from([b]));
  assert.deepEqual(parseAll(chunks), expected);
});

test('protocol errors carry Redis error text', () => {
  const cases: Array<[string, string]> = [
    ['*abc\r\n', 'ERR Protocol error: invalid multibulk length'],
    ['*1\r\nfoo\r\n', "ERR Protocol error: expected '$', got 'f'"],
    ['*1\r\n$-5\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$abc\r\n', 'ERR Protocol error: invalid bulk length'],
    ['set "a\n', 'ERR Protocol error: unbalanced quotes in request'],
    ['*3000000000\r\n', 'ERR Protocol error: invalid multibulk length'],
  ];
  for (const [input, msg] of cases) {
    assert.throws(() => parseAll([Buffer.from(input, 'latin1')]), (e: unknown) => e instanceof ProtocolError && e.message === msg, input);
  }
  assert.throws(() => parseAll([Buffer.from('x'.repeat(70000))]), /too big inline request/);
  assert.throws(() => parseAll([Buffer.from('*' + '1'.repeat(70000))]), /too big mbulk count string/);
  assert.throws(() => parseAll([Buffer.from('*1\r\n$' + '1'.repeat(70000))]), /too big bulk count string/);
  assert.throws(() => parseAll([Buffer.from('*1\r\n$2000\r\n')], { maxBulkLen: 1000, authRequired: false }), /invalid bulk length/);
  assert.throws(() => parseAll([Buffer.from('*11\r\n')], { maxBulkLen: 1000, authRequired: true }), /unauthenticated multibulk length/);
  assert.throws(() => parseAll([Buffer.from('*1\r\n$16385\r\n')], { maxBulkLen: 1 << 20, authRequired: true }), /unauthenticated bulk length/);
});

test('splitArgs follows sdssplitargs', () => {
  assert.deepEqual(splitArgs('set "\\x41\\n" \'x\''), ['set', 'A\n', 'x']);
  assert.deepEqual(splitArgs('  a   b  '), ['a', 'b']);
  assert.deepEqual(splitArgs('""'), ['']);
  assert.equal(splitArgs('"a"b'), null);
  assert.equal(splitArgs("'a"), null);
  assert.deepEqual(splitArgs('a"b c"'), ['ab c']);
});
