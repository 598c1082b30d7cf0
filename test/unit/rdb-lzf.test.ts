import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { lzfCompress, lzfDecompress, LzfError } from '../../src/persistence/rdb/lzf.js';
import { fixturesDir } from '../helpers/servers.js';

const FIX = fixturesDir();

test('lzf round trip on random and repetitive data', () => {
  const data = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 2000 }),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 600 }))
      .map(([unit, n]) => Uint8Array.from({ length: unit.length * n }, (_, i) => unit[i % unit.length]!)),
  );
  fc.assert(fc.property(data, (d) => {
    const input = Buffer.from(d);
    const c = lzfCompress(input, input.length + 64);
    assert.ok(c !== null);
    assert.deepEqual(lzfDecompress(c, input.length), input);
    // with Redis's budget (len - 4) the result is either smaller or refused
    const tight = lzfCompress(input, Math.max(1, input.length - 4));
    if (tight !== null) {
      assert.ok(tight.length <= input.length - 4);
      assert.deepEqual(lzfDecompress(tight, input.length), input);
    }
  }), { numRuns: 300 });
});

test('lzf round trip of large inputs (1 MB)', () => {
  const rep = Buffer.alloc(1 << 20, 'x');
  const c1 = lzfCompress(rep, rep.length - 4)!;
  assert.ok(c1.length < 20000);
  assert.deepEqual(lzfDecompress(c1, rep.length), rep);
  const mixed = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i % 7 === 0 ? (i * 31) & 0xff : i >> 12) & 0xff));
  const c2 = lzfCompress(mixed, mixed.length - 4)!;
  assert.deepEqual(lzfDecompress(c2, mixed.length), mixed);
});

test('lzf refuses what does not fit or is incompressible', () => {
  assert.equal(lzfCompress(Buffer.alloc(0), 10), null);
  const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 181 + 7) & 0xff));
  assert.equal(lzfCompress(random, random.length - 4), null);
});

test('lzf decompression of malformed input throws LzfError, never reads out of bounds', () => {
  const good = lzfCompress(Buffer.from('abcabcabcabcabcabcabcabcabcabcabc'), 100)!;
  assert.throws(() => lzfDecompress(good, 10), LzfError); // wrong expected length
  assert.throws(() => lzfDecompress(good, 1000), LzfError);
  assert.throws(() => lzfDecompress(Buffer.from([0x1f, 1, 2]), 32), LzfError); // literal past the input
  assert.throws(() => lzfDecompress(Buffer.from([0x20, 0x05]), 10), LzfError); // reference before the start
  assert.throws(() => lzfDecompress(Buffer.from([0xe0]), 10), LzfError); // truncated reference
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(200), (d, n) => {
    try {
      const out = lzfDecompress(Buffer.from(d), n);
      assert.equal(out.length, n);
    } catch (e) {
      assert.ok(e instanceof LzfError);
    }
  }), { numRuns: 500 });
});

test('compresses like Redis 7.0 and decompresses Redis-made data', { skip: FIX === null && 'fixtures folder ../shared/fixtures absent' }, () => {
  // str:lzf of dump.rdb: "a" x 200 as Redis 7.0.15 compressed it (DUMP payload fixture)
  const lines = readFileSync(join(FIX!, 'redis-7.0.15', 'dump-payloads.hex.txt'), 'latin1').split('\n');
  const line = lines.find((l) => l.startsWith('str:lzf '))!;
  const quoted = Buffer.from(line.split(' ')[1]!, 'hex').toString('latin1').trim();
  const bytes = Buffer.from(JSON.parse(quoted.replace(/\\x([0-9a-f]{2})/g, '\\u00$1')), 'latin1');
  // payload: type 0, 0xC3, clen, len, data, version, crc
  assert.equal(bytes[0], 0);
  assert.equal(bytes[1], 0xc3);
  const clen = bytes[2]! & 0x3f;
  let p = 3;
  let len = bytes[p]!;
  if ((len & 0xc0) === 0x40) {
    len = ((len & 0x3f) << 8) | bytes[p + 1]!;
    p += 2;
  } else p += 1;
  const data = bytes.subarray(p, p + clen);
  const plain = lzfDecompress(data, len);
  assert.equal(plain.toString('latin1'), 'a'.repeat(len));
  assert.deepEqual(lzfCompress(plain, plain.length - 4), data);
});
