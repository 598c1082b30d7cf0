import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser } from '../../src/protocol/parser.js';

// The server reads every socket into one reused buffer (feed(buf, true, n) then detach()): the
// parser must never return data that a later read overwrote, nor look past the read's length.

const limits = { maxBulkLen: 512 * 1024 * 1024, authRequired: false };

function encode(argv: string[]): string {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

test('requests split across reads into one reused buffer parse exactly', () => {
  const rand = rng(42);
  const requests: string[][] = [];
  let text = '';
  for (let i = 0; i < 400; i++) {
    const kind = Math.floor(rand() * 4);
    const argv = kind === 0 ? ['SET', `key:${i}`, 'v'.repeat(Math.floor(rand() * 300))]
      : kind === 1 ? ['GET', `key:${i}`]
        : kind === 2 ? ['LPUSH', 'l', 'a\r\nb', String(i)]
          : ['MSET', ...Array.from({ length: 12 }, (_, j) => `k${j}\x00${i}`)];
    requests.push(argv);
    text += encode(argv);
    if (i % 50 === 0) {
      text += 'PING\r\n';
      requests.push(['PING']);
    }
  }
  const stream = Buffer.from(text, 'latin1');
  for (const maxRead of [1, 7, 64, 1000, 20000]) {
    const shared = Buffer.alloc(Math.max(maxRead, 16) + 32);
    const p = new RequestParser(limits);
    const out: string[][] = [];
    for (let off = 0; off < stream.length;) {
      const n = Math.min(stream.length - off, 1 + Math.floor(rand() * maxRead));
      shared.fill(0x2a); // stale bytes past the read look like a multibulk header
      stream.copy(shared, 0, off, off + n);
      off += n;
      p.feed(shared, true, n);
      for (let a = p.next(); a !== null; a = p.next()) out.push(a);
      p.detach();
    }
    assert.deepEqual(out, requests, `reads of at most ${maxRead} bytes`);
    assert.equal(p.bufferedBytes, 0);
  }
});

test('bytes left in the reused buffer after detach survive the next read', () => {
  const p = new RequestParser(limits);
  const shared = Buffer.alloc(64);
  const first = Buffer.from('*2\r\n$3\r\nGET\r\n$5\r\nhel', 'latin1');
  first.copy(shared);
  p.feed(shared, true, first.length);
  assert.equal(p.next(), null);
  p.detach();
  shared.fill(0x21);
  const rest = Buffer.from('lo\r\n*1\r\n$4\r\nPING\r\n', 'latin1');
  rest.copy(shared);
  p.feed(shared, true, rest.length);
  assert.deepEqual(p.next(), ['GET', 'hello']);
  assert.deepEqual(p.next(), ['PING']);
  assert.equal(p.next(), null);
});

test('argv[0] strings are reused only for identical command names', () => {
  const p = new RequestParser(limits);
  p.feed(Buffer.from(encode(['SET', 'a', '1']) + encode(['SET', 'b', '2']) + encode(['SEX', 'c']) + encode(['set', 'd', '3']), 'latin1'));
  assert.deepEqual([p.next(), p.next(), p.next(), p.next()], [['SET', 'a', '1'], ['SET', 'b', '2'], ['SEX', 'c'], ['set', 'd', '3']]);
});
