/**
 * The split RDB encoder (RdbWriter.deferCompression on the main thread, RdbLzfStage on the save
 * worker) must write exactly the bytes of one encoder with compression and checksum on: a BGSAVE
 * through the worker and a SAVE give the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Value } from '../../src/keyspace/types/object.js';
import { ListObject } from '../../src/keyspace/types/list.js';
import { RdbFileEncoder, DEFAULT_SAVE_OPTIONS, type RdbSaveOptions } from '../../src/persistence/rdb/encoder.js';
import { RdbLzfStage, compressChunk } from '../../src/persistence/rdb/lzf-stage.js';
import { buildHash, buildSet, buildZSet, DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';

const bytes = (max: number): fc.Arbitrary<string> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));
const str = fc.oneof(
  { weight: 4, arbitrary: bytes(40) },
  { weight: 1, arbitrary: fc.integer({ min: -100000, max: 100000 }).map(String) },
  // compressible, around the 20-byte threshold and the 64 KB chunk size
  { weight: 2, arbitrary: fc.integer({ min: 15, max: 200 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(66000, 70000, 140000).map((n) => 'ab'.repeat(n >> 1)) },
  { weight: 1, arbitrary: fc.integer({ min: 21, max: 3000 }).map((n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919) & 255)).toString('latin1')) },
);
const valueArb: fc.Arbitrary<() => Value> = fc.oneof(
  { weight: 4, arbitrary: str.map((s) => () => s) },
  { weight: 1, arbitrary: fc.array(str, { minLength: 1, maxLength: 150 }).map((a) => () => ListObject.from(a)) },
  { weight: 1, arbitrary: fc.uniqueArray(str, { minLength: 1, maxLength: 150 }).map((a) => () => buildSet(a, DEFAULT_LIMITS)!) },
  {
    weight: 1,
    arbitrary: fc.uniqueArray(fc.tuple(str, fc.double({ noNaN: true })), { minLength: 1, maxLength: 150, selector: (t) => t[0] })
      .map((a) => () => buildZSet(a.map((t) => t[0]), a.map((t) => t[1]), a.length > 100 ? 'skiplist' : 'listpack', DEFAULT_LIMITS)!),
  },
  {
    weight: 1,
    arbitrary: fc.uniqueArray(fc.tuple(str, str), { minLength: 1, maxLength: 150, selector: (t) => t[0] })
      .map((a) => () => buildHash(a.flat(), a.length > 100 ? 'hashtable' : 'listpack', DEFAULT_LIMITS)!),
  },
);

/** The file's header, one db and `keys`: everything but the end. */
function writeKeys(enc: RdbFileEncoder, keys: Array<[string, () => Value]>): void {
  enc.begin({ ctime: 1, usedMem: 1 });
  enc.selectDb(0, keys.length, 0);
  for (const [k, v] of keys) enc.key(k, v(), -1);
}

/** One encoder, as SAVE writes. */
function whole(keys: Array<[string, () => Value]>, opts: RdbSaveOptions): Buffer {
  const out: Buffer[] = [];
  const enc = new RdbFileEncoder((c) => out.push(Buffer.from(c)), opts);
  writeKeys(enc, keys);
  enc.end();
  return Buffer.concat(out);
}

/** The split encoder, as BGSAVE writes through its worker. */
function split(keys: Array<[string, () => Value]>, opts: RdbSaveOptions): Buffer {
  const out: Buffer[] = [];
  const stage = new RdbLzfStage((c) => out.push(Buffer.from(c)), opts);
  const enc: RdbFileEncoder = new RdbFileEncoder((c) => stage.chunk(Buffer.from(c), enc.w.takeDeferred()), { ...opts, checksum: false });
  enc.w.deferCompression();
  writeKeys(enc, keys);
  enc.end(false);
  stage.end();
  return Buffer.concat(out);
}

test('deferred compression + RdbLzfStage write the bytes of one encoder (compression and checksum on and off)', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(str, valueArb), { minLength: 1, maxLength: 60, selector: (t) => t[0] }),
      fc.boolean(),
      fc.boolean(),
      (keys, compression, checksum) => {
        const opts = { ...DEFAULT_SAVE_OPTIONS, compression, checksum };
        const a = whole(keys, opts);
        const b = split(keys, opts);
        assert.equal(b.length, a.length);
        assert.ok(a.equals(b), 'bytes differ');
      },
    ),
    { numRuns: 150 },
  );
});

/**
 * The split encoder with some chunks compressed on the "main thread" (compressChunk, handed to
 * the stage as precompressed), as a synchronous save does when its worker falls behind: `pick`
 * says which.
 */
function splitStealing(keys: Array<[string, () => Value]>, opts: RdbSaveOptions, pick: (i: number) => boolean): { bytes: Buffer; stolen: number } {
  const out: Buffer[] = [];
  const stage = new RdbLzfStage((c) => out.push(Buffer.from(c)), opts);
  let base = 0;
  let i = 0;
  let stolen = 0;
  const enc: RdbFileEncoder = new RdbFileEncoder((c) => {
    const triples = enc.w.takeDeferred();
    if (pick(i++) && triples.length > 0) {
      stolen++;
      stage.precompressed(Buffer.from(compressChunk(c, triples, base, opts)), c.length);
    } else {
      stage.chunk(Buffer.from(c), triples);
    }
    base += c.length;
  }, { ...opts, checksum: false });
  enc.w.deferCompression();
  enc.w.lend();
  writeKeys(enc, keys);
  enc.end(false);
  stage.end();
  return { bytes: Buffer.concat(out), stolen };
}

test('chunks compressed on the other side (compressChunk + precompressed) give the same bytes, in any mix', () => {
  let stolenTotal = 0;
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(str, valueArb), { minLength: 1, maxLength: 60, selector: (t) => t[0] }),
      fc.boolean(),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
      (keys, checksum, mask) => {
        const opts = { ...DEFAULT_SAVE_OPTIONS, compression: true, checksum };
        const a = whole(keys, opts);
        const b = splitStealing(keys, opts, (i) => mask[i % mask.length]!);
        stolenTotal += b.stolen;
        assert.equal(b.bytes.length, a.length);
        assert.ok(a.equals(b.bytes), 'bytes differ');
      },
    ),
    { numRuns: 150 },
  );
  assert.ok(stolenTotal > 50, `chunks compressed on the other side: ${stolenTotal}`);
});

test('a triple outside its chunk is refused, not written', () => {
  const stage = new RdbLzfStage(() => undefined, DEFAULT_SAVE_OPTIONS);
  assert.throws(() => stage.chunk(Buffer.alloc(10), [5, 1, 30]), /outside its chunk/);
});
