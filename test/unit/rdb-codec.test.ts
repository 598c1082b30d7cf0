import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import type { Value } from '../../src/keyspace/types/object.js';
import { Stream, StreamCG, StreamConsumer, streamIdKey, formatStreamId, type StreamNACK } from '../../src/keyspace/types/stream.js';
import { ListObject } from '../../src/keyspace/types/list.js';
import { RdbReader, RdbError } from '../../src/persistence/rdb/reader.js';
import { RdbParser, loadObject } from '../../src/persistence/rdb/decoder.js';
import { RdbFileEncoder, dumpPayload, rdbTypeOf, rdbSnapshotFormat, DEFAULT_SAVE_OPTIONS, type RdbSaveOptions } from '../../src/persistence/rdb/encoder.js';
import { buildHash, buildSet, buildZSet, DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import { dumpDatabases, dumpValue } from '../../src/persistence/rdb/inspect.js';
import * as C from '../../src/persistence/rdb/constants.js';
import { fixturesDir } from '../helpers/servers.js';

const FIX = fixturesDir();
const noFix = FIX === null && 'fixtures folder ../shared/fixtures absent';

/** Decodes a whole RDB (buffer) into a fresh keyspace, as the loader does (expired keys dropped). */
function decode(buf: Buffer, opts: { keepExpired?: boolean } = {}): { ks: Keyspace; parser: RdbParser; empty: string[] } {
  const ks = new Keyspace(16);
  ks.loading = true;
  const empty: string[] = [];
  const now = Date.now();
  const parser = new RdbParser(new RdbReader(buf), {
    databases: 16,
    handlers: {
      key(db, key, value, expireAt) {
        if (!opts.keepExpired && expireAt !== -1 && expireAt < now) return;
        if (ks.dbs[db]!.segmentOf(key).has(key)) throw new RdbError(0, `RDB has duplicated key '${key}' in DB ${db}`);
        ks.dbs[db]!.setKey(key, value, expireAt === -1 ? undefined : expireAt);
      },
      emptyKey(_db, key) {
        empty.push(key);
      },
    },
  });
  parser.run();
  return { ks, parser, empty };
}

/** Encodes a keyspace as an RDB file. */
function encode(ks: Keyspace, opts: RdbSaveOptions = DEFAULT_SAVE_OPTIONS): Buffer {
  const chunks: Buffer[] = [];
  const enc = new RdbFileEncoder((c) => chunks.push(c), opts);
  enc.begin({ ctime: 1700000000, usedMem: 1000000 });
  ks.dbs.forEach((db, i) => {
    if (db.size === 0) return;
    enc.selectDb(i, db.size, db.expires.size);
    for (const [k, v] of db.entries()) enc.key(k, v, db.getExpire(k));
  });
  enc.end();
  return Buffer.concat(chunks);
}

function lines(ks: Keyspace): string[] {
  return dumpDatabases(ks.dbs);
}

function expectedLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.stringify(JSON.parse(l)));
}

const RDB_FIXTURES = FIX === null ? [] : [
  join(FIX, 'redis-7.0.15', 'dump.rdb'),
  ...readdirSync(join(FIX, 'redis-test-assets')).filter((f) => f.endsWith('.rdb') && f !== 'corrupt_ziplist.rdb')
    .map((f) => join(FIX, 'redis-test-assets', f)),
];

test('every RDB fixture decodes to the keyspace Redis 7.0.15 showed', { skip: noFix }, () => {
  assert.ok(RDB_FIXTURES.length >= 7);
  for (const f of RDB_FIXTURES) {
    const { ks } = decode(readFileSync(f));
    const want = expectedLines(f.replace(/dump\.rdb$/, 'dump.expected.jsonl').replace(/\.rdb$/, '.expected.jsonl'));
    assert.deepEqual(lines(ks), want, f);
  }
});

test('corrupt_ziplist.rdb is refused: "Hash ziplist integrity check failed." with its offset', { skip: noFix }, () => {
  const buf = readFileSync(join(FIX!, 'redis-test-assets', 'corrupt_ziplist.rdb'));
  assert.throws(() => decode(buf), (e: unknown) => {
    assert.ok(e instanceof RdbError);
    assert.equal(e.reason, 'Hash ziplist integrity check failed.');
    assert.ok(e.offset > 9 && e.offset < buf.length);
    return true;
  });
});

test('corrupt_empty_keys.rdb loads with its empty keys skipped', { skip: noFix }, () => {
  const { ks, parser, empty } = decode(readFileSync(join(FIX!, 'redis-test-assets', 'corrupt_empty_keys.rdb')));
  assert.equal(lines(ks).length, 0);
  assert.equal(parser.emptyKeysSkipped, empty.length);
  assert.ok(empty.includes('set') && empty.includes('hash') && empty.includes('list_quicklist_empty_ziplist'));
});

test('a truncated file is refused with an RdbError at every length, never another exception', { skip: noFix }, () => {
  const small = readFileSync(join(FIX!, 'redis-test-assets', 'encodings.rdb'));
  for (let n = 0; n < small.length; n++) {
    assert.throws(() => decode(small.subarray(0, n)), RdbError, `length ${n}`);
  }
  const big = readFileSync(join(FIX!, 'redis-7.0.15', 'dump.rdb'));
  for (let i = 0; i < 60; i++) {
    const n = Math.floor((i / 60) * big.length);
    assert.throws(() => decode(big.subarray(0, n)), RdbError, `length ${n}`);
  }
});

test('checksum: a flipped byte is found by the CRC-64; a zero trailer skips the check', { skip: noFix }, () => {
  const buf = Buffer.from(readFileSync(join(FIX!, 'redis-7.0.15', 'dump.rdb')));
  const p = buf.indexOf('hello');
  buf[p] = 'j'.charCodeAt(0);
  assert.throws(() => decode(buf), (e: unknown) => e instanceof RdbError && /RDB CRC error/.test(e.reason));
  buf.fill(0, buf.length - 8);
  const { ks, parser } = decode(buf);
  assert.equal(parser.checksum, 'disabled-in-file');
  assert.ok(lines(ks).some((l) => l.includes('"jello"')));
});

test('random corruption of an RDB gives a clean RdbError or a loadable file, never a crash', () => {
  const ks = sampleKeyspace();
  const good = encode(ks, { ...DEFAULT_SAVE_OPTIONS, checksum: false });
  fc.assert(fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(3), (pos, x, extra) => {
    const b = Buffer.from(good);
    b[pos] ^= x;
    if (extra) b[(pos * 7 + extra) % b.length] ^= x;
    try {
      decode(b, { keepExpired: true });
    } catch (e) {
      if (!(e instanceof RdbError)) throw e;
    }
  }), { numRuns: 400 });
});

// ---- encoder ---------------------------------------------------------------------------------

/** One key of every type and encoding Redis 7.0 writes. */
function sampleKeyspace(): Keyspace {
  const ks = new Keyspace(16);
  const db = ks.dbs[0]!;
  const L = DEFAULT_LIMITS;
  db.setKey('str:int', '12345');
  db.setKey('str:big-int', '9223372036854775807');
  db.setKey('str:raw', 'hello world');
  db.setKey('str:lzf', 'a'.repeat(500));
  db.setKey('str:empty', '');
  db.setKey('str:binary', '\x00\xff\r\n' + 'b'.repeat(30));
  db.setKey('str:ttl', 'x', Date.now() + 3600_000);
  db.setKey('list:small', ListObject.from(['a', '1', '', '-7', 'x'.repeat(70)]));
  db.setKey('list:large', ListObject.from(Array.from({ length: 3000 }, (_, i) => `item-${i}`)));
  db.setKey('set:intset', buildSet(['3', '-5', '1000000', '9223372036854775807'], L)!);
  db.setKey('set:ht', buildSet(['a', 'b', '', 'c'], L)!);
  db.setKey('zset:lp', buildZSet(['a', 'b', 'c', 'ninf', 'pinf', ''], [1, 2.5, -0.1, -Infinity, Infinity, 0], 'listpack', L)!);
  db.setKey('zset:sl', buildZSet(Array.from({ length: 200 }, (_, i) => `m${i}`), Array.from({ length: 200 }, (_, i) => i / 3), 'skiplist', L)!);
  db.setKey('hash:lp', buildHash(['f1', 'v1', 'n', '42', 'e', ''], 'listpack', L)!);
  db.setKey('hash:ht', buildHash(['f', 'v'.repeat(100), 'g', 'w'], 'hashtable', L)!);
  db.setKey('stream', sampleStream());
  ks.dbs[3]!.setKey('db3', 'three');
  return ks;
}

function sampleStream(): Stream {
  const s = new Stream();
  for (let i = 1; i <= 250; i++) {
    const fields = i % 50 === 0 ? ['other', String(i)] : ['n', String(i), 'text', 'v'.repeat(i % 7)];
    s.entries.set(streamIdKey({ ms: BigInt(1000 + i), seq: BigInt(i % 3) }), fields);
  }
  s.lastId = { ms: 1250n, seq: 5n };
  s.updateFirstId();
  s.maxDeletedEntryId = { ms: 900n, seq: 1n };
  s.entriesAdded = 260;
  const g = new StreamCG('group', { ms: 1010n, seq: 1n }, 10);
  const alice = new StreamConsumer('alice', 1700000000123, 1700000000123);
  for (const id of [{ ms: 1001n, seq: 1n }, { ms: 1005n, seq: 2n }]) {
    const k = streamIdKey(id);
    const n: StreamNACK = { deliveryTime: 1700000000456, deliveryCount: 3, consumer: alice };
    g.pel.set(k, n);
    alice.pel.set(k, n);
  }
  g.consumers.set('alice', alice);
  g.consumers.set('bob', new StreamConsumer('bob', 1700000000999, 1700000000999));
  s.groups.set('group', g);
  s.groups.set('empty', new StreamCG('empty', { ms: 0n, seq: 0n }, -1));
  return s;
}

test('encoder writes the RDB type Redis 7.0 chooses for each encoding', () => {
  const db = sampleKeyspace().dbs[0]!;
  const t = (k: string): number => rdbTypeOf(db.peek(k)!);
  assert.equal(t('str:int'), C.RDB_TYPE_STRING);
  assert.equal(t('list:small'), C.RDB_TYPE_LIST_QUICKLIST_2);
  assert.equal(t('set:intset'), C.RDB_TYPE_SET_INTSET);
  assert.equal(t('set:ht'), C.RDB_TYPE_SET);
  assert.equal(t('zset:lp'), C.RDB_TYPE_ZSET_LISTPACK);
  assert.equal(t('zset:sl'), C.RDB_TYPE_ZSET_2);
  assert.equal(t('hash:lp'), C.RDB_TYPE_HASH_LISTPACK);
  assert.equal(t('hash:ht'), C.RDB_TYPE_HASH);
  assert.equal(t('stream'), C.RDB_TYPE_STREAM_LISTPACKS_2);
});

test('file layout: magic, aux fields, SELECTDB + RESIZEDB, EOF and CRC-64', () => {
  const ks = sampleKeyspace();
  const buf = encode(ks);
  assert.equal(buf.latin1Slice(0, 9), 'REDIS0010');
  const aux = new Map<string, string>();
  const dbs: number[] = [];
  const sizes: Array<[number, number]> = [];
  const p = new RdbParser(new RdbReader(buf), {
    databases: 16,
    handlers: {
      aux: (k, v) => aux.set(k, v),
      selectDb: (d) => dbs.push(d),
      resizeDb: (s, e) => sizes.push([s, e]),
      key: () => undefined,
    },
  });
  p.run();
  assert.deepEqual([...aux.keys()], ['redis-ver', 'redis-bits', 'ctime', 'used-mem', 'aof-base']);
  assert.equal(aux.get('redis-ver'), '7.0.15');
  assert.equal(aux.get('redis-bits'), '64');
  assert.equal(aux.get('aof-base'), '0');
  assert.deepEqual(dbs, [0, 3]);
  assert.deepEqual(sizes, [[ks.dbs[0]!.size, 1], [1, 0]]);
  assert.equal(p.checksum, 'ok');
  assert.equal(p.endOffset, buf.length);
  // integer strings use the int encodings: "12345" is C1 39 30 after its key
  const k = buf.indexOf('str:int');
  assert.deepEqual([...buf.subarray(k + 7, k + 10)], [0xc1, 0x39, 0x30]);
});

test('rdbchecksum no writes a zero trailer; rdbcompression no writes no LZF strings', () => {
  const ks = sampleKeyspace();
  const noSum = encode(ks, { ...DEFAULT_SAVE_OPTIONS, checksum: false });
  assert.ok(noSum.subarray(noSum.length - 8).equals(Buffer.alloc(8)));
  assert.equal(decode(noSum).parser.checksum, 'disabled-in-file');
  const noLzf = encode(ks, { ...DEFAULT_SAVE_OPTIONS, compression: false });
  const k = noLzf.indexOf('str:lzf');
  assert.equal(noLzf[k + 7], 0x41); // 14-bit length 500, not 0xC3
  assert.deepEqual(lines(decode(noLzf).ks), lines(ks));
  const withLzf = encode(ks);
  const k2 = withLzf.indexOf('str:lzf');
  assert.equal(withLzf[k2 + 7], 0xc3);
  assert.ok(withLzf.length < noLzf.length);
});

test('every type and encoding survives encode then decode, stream metadata included', () => {
  const ks = sampleKeyspace();
  const back = decode(encode(ks)).ks;
  assert.deepEqual(lines(back), lines(ks));
  for (const db of [0, 3]) {
    for (const [k, v] of ks.dbs[db]!.entries()) {
      const w = back.dbs[db]!.peek(k)!;
      assert.equal(typeof v === 'string' ? 'string' : v.encoding(), typeof w === 'string' ? 'string' : w.encoding(), k);
    }
  }
  const s = back.dbs[0]!.peek('stream') as Stream;
  const orig = ks.dbs[0]!.peek('stream') as Stream;
  assert.deepEqual(s.lastId, orig.lastId);
  assert.deepEqual(s.firstId, orig.firstId);
  assert.deepEqual(s.maxDeletedEntryId, orig.maxDeletedEntryId);
  assert.equal(s.entriesAdded, 260);
  const g = s.groups.get('group')!;
  assert.equal(g.entriesRead, 10);
  assert.equal(s.groups.get('empty')!.entriesRead, -1);
  assert.equal(g.pel.size, 2);
  const alice = g.consumers.get('alice')!;
  assert.equal(alice.seenTime, 1700000000123);
  assert.equal(alice.pel.size, 2);
  for (const [k, n] of g.pel.entries()) {
    assert.equal(n.consumer, alice);
    assert.equal(alice.pel.get(k), n);
    assert.equal(n.deliveryTime, 1700000000456);
    assert.equal(n.deliveryCount, 3);
  }
  assert.equal(g.consumers.get('bob')!.pel.size, 0);
});

test('the snapshot format writes the same bytes as the file encoder', () => {
  // as BGSAVE uses it: chunks serialized early by the guard are written raw into the file
  // encoder's stream (which keeps the CRC-64), where the encoder would have written the key
  const ks = sampleKeyspace();
  const fmt = rdbSnapshotFormat(DEFAULT_SAVE_OPTIONS);
  const parts: Buffer[] = [];
  const enc = new RdbFileEncoder((c) => parts.push(c), DEFAULT_SAVE_OPTIONS);
  enc.begin({ ctime: 1700000000, usedMem: 1000000 });
  ks.dbs.forEach((db, i) => {
    if (db.size === 0) return;
    enc.w.bytes(fmt.snapshot.beginDb(i, db.size, db.expires.size));
    for (const [k, v] of db.entries()) enc.w.bytes(fmt.snapshot.entry(i, k, v, db.getExpire(k)));
  });
  enc.end();
  assert.deepEqual(Buffer.concat(parts), encode(ks));
});

// ---- random data sets ------------------------------------------------------------------------

const bytes = (max: number): fc.Arbitrary<string> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));
const str = fc.oneof(
  { weight: 4, arbitrary: bytes(30) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: -100000, max: 100000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', '0', '-0', '007', ' 1') },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 3000 }).map((n) => 'z'.repeat(n)) },
);
const score = fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(Infinity, -Infinity, 0, -0, 1e-300), fc.integer().map(Number));

const valueArb: fc.Arbitrary<() => Value> = fc.oneof(
  str.map((s) => () => s),
  fc.array(str, { minLength: 1, maxLength: 300 }).map((a) => () => ListObject.from(a)),
  fc.uniqueArray(str, { minLength: 1, maxLength: 200 }).map((a) => () => buildSet(a, DEFAULT_LIMITS)!),
  fc.uniqueArray(fc.tuple(str, score), { minLength: 1, maxLength: 200, selector: (t) => t[0] })
    .map((a) => () => buildZSet(a.map((t) => t[0]), a.map((t) => t[1]), a.length > 100 ? 'skiplist' : 'listpack', DEFAULT_LIMITS)!),
  fc.uniqueArray(fc.tuple(str, str), { minLength: 1, maxLength: 200, selector: (t) => t[0] })
    .map((a) => () => buildHash(a.flat(), a.length > 100 ? 'hashtable' : 'listpack', DEFAULT_LIMITS)!),
  fc.array(fc.tuple(fc.nat(5), fc.array(str, { minLength: 2, maxLength: 8 })), { maxLength: 150 }).map((a) => () => {
    const s = new Stream();
    let ms = 1n;
    for (const [gap, f] of a) {
      ms += BigInt(gap);
      const fields = f.length & 1 ? f.slice(1) : f;
      s.entries.set(streamIdKey({ ms, seq: BigInt(gap) }), fields);
      s.lastId = { ms, seq: BigInt(gap) };
    }
    s.updateFirstId();
    s.entriesAdded = s.length;
    return s;
  }),
);

test('random data sets round trip through the RDB encoder and decoder', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(15), bytes(12), valueArb, fc.option(fc.integer({ min: 60_000, max: 1e9 }))), { maxLength: 25 }),
    fc.boolean(),
    (keys, compression) => {
      const ks = new Keyspace(16);
      const now = Date.now();
      for (const [db, key, mk, ttl] of keys) ks.dbs[db]!.setKey(key, mk(), ttl === null ? undefined : now + ttl);
      const buf = encode(ks, { ...DEFAULT_SAVE_OPTIONS, compression });
      assert.deepEqual(lines(decode(buf).ks), lines(ks));
    },
  ), { numRuns: 60 });
});

test('DUMP payloads of random values restore to the same value', () => {
  fc.assert(fc.property(valueArb, (mk) => {
    const v = mk();
    const p = dumpPayload(v);
    assert.equal(p.readUInt16LE(p.length - 10), 10);
    const r = new RdbReader(p.subarray(0, p.length - 10));
    const back = loadObject(r, r.u8(), DEFAULT_LIMITS)!;
    assert.deepEqual(dumpValue(back), dumpValue(v));
    assert.equal(r.offset, p.length - 10);
  }), { numRuns: 100 });
});

test('a stream of the old format (RDB type 15) gets its recorded first ID as Redis 7.0 computes it', () => {
  // no node, length 0, last ID 5-1, no group: streamGetEdgeID finds nothing, so the highest ID
  const empty = loadObject(new RdbReader(Buffer.from([0, 0, 5, 1, 0])), 15, DEFAULT_LIMITS, 'old') as Stream;
  assert.equal(formatStreamId(empty.firstId), '18446744073709551615-18446744073709551615');
  assert.equal(formatStreamId(empty.lastId), '5-1');
  assert.equal(empty.entriesAdded, 0);
  // saved again (type 19), the recorded ID goes with it
  const p = dumpPayload(empty);
  const r = new RdbReader(p.subarray(0, p.length - 10));
  const back = loadObject(r, r.u8(), DEFAULT_LIMITS) as Stream;
  assert.equal(formatStreamId(back.firstId), '18446744073709551615-18446744073709551615');
  // with entries: the first one's ID (the type 19 payload of the same stream, its 7.0 fields cut out)
  const s = new Stream();
  s.entries.set(streamIdKey({ ms: 7n, seq: 0n }), ['f', 'v']);
  s.entries.set(streamIdKey({ ms: 9n, seq: 3n }), ['f', 'w']);
  s.lastId = { ms: 9n, seq: 3n };
  s.updateFirstId();
  s.entriesAdded = 2;
  const p19 = dumpPayload(s);
  assert.equal(p19[0], 19);
  // after the nodes: length 2, last ID 9-3, then first ID 7-0, max deleted 0-0, entries added 2, groups 0
  const tail = Buffer.from([2, 9, 3, 7, 0, 0, 0, 2, 0]);
  const body = p19.subarray(1, p19.length - 10);
  assert.deepEqual(body.subarray(body.length - tail.length), tail);
  const v15 = Buffer.concat([body.subarray(0, body.length - tail.length), Buffer.from([2, 9, 3, 0])]);
  const old = loadObject(new RdbReader(v15), 15, DEFAULT_LIMITS, 'old') as Stream;
  assert.equal(formatStreamId(old.firstId), '7-0');
  assert.equal(old.entriesAdded, 2);
  assert.equal(old.length, 2);
});

// ---- opcodes Amber refuses -------------------------------------------------------------------

function rdbWith(body: number[] | Buffer): Buffer {
  return Buffer.concat([Buffer.from('REDIS0010'), Buffer.from(body), Buffer.from([0xff]), Buffer.alloc(8)]);
}

test('function libraries (to a reader without a library handler) and module data are refused with a clear error', () => {
  const lib = '#!lua name=mylib\nredis.register_function("f", function() return 1 end)';
  const fn = rdbWith(Buffer.concat([Buffer.from([C.RDB_OPCODE_FUNCTION2, 0x40 | (lib.length >> 8), lib.length & 0xff]), Buffer.from(lib)]));
  assert.throws(() => decode(fn), (e: unknown) => e instanceof RdbError && /does not load functions/.test(e.reason) && /mylib/.test(e.reason));
  // module id of a type named "mytype123", encoding version 1
  const cset = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = 0n;
  for (const ch of 'mytype123') id = (id << 6n) | BigInt(cset.indexOf(ch));
  id = (id << 10n) | 1n;
  const idBytes = Buffer.alloc(9);
  idBytes[0] = 0x81;
  idBytes.writeBigUInt64BE(id, 1);
  const modAux = rdbWith(Buffer.concat([Buffer.from([C.RDB_OPCODE_MODULE_AUX]), idBytes, Buffer.from([2, 2, 0])]));
  assert.throws(() => decode(modAux), (e: unknown) => e instanceof RdbError && /mytype123/.test(e.reason));
  const modVal = rdbWith(Buffer.concat([Buffer.from([C.RDB_TYPE_MODULE_2, 1, 0x6b]), idBytes, Buffer.from([0])]));
  assert.throws(() => decode(modVal), (e: unknown) => e instanceof RdbError && /module type 'mytype123'/.test(e.reason));
});

test('unknown AUX fields are skipped; old EXPIRETIME (seconds), IDLE and FREQ opcodes are read', () => {
  const body = Buffer.from([
    C.RDB_OPCODE_AUX, 3, 0x66, 0x6f, 0x6f, 1, 0x78, // aux foo=x
    C.RDB_OPCODE_SELECTDB, 2,
    C.RDB_OPCODE_EXPIRETIME, 0xff, 0xff, 0xff, 0x7f, // 2038-01-19
    C.RDB_OPCODE_IDLE, 10,
    C.RDB_OPCODE_FREQ, 7,
    C.RDB_TYPE_STRING, 1, 0x6b, 1, 0x76,
  ]);
  const { ks } = decode(rdbWith(body));
  assert.equal(ks.dbs[2]!.peek('k'), 'v');
  assert.equal(ks.dbs[2]!.getExpire('k'), 0x7fffffff * 1000);
});

test('RDB versions: 1-10 accepted, 11 and a bad magic refused', () => {
  const v = (ver: string): Buffer => Buffer.concat([Buffer.from('REDIS' + ver), Buffer.from([0xff]), Buffer.alloc(8)]);
  for (let i = 1; i <= 10; i++) assert.doesNotThrow(() => decode(v(String(i).padStart(4, '0'))));
  // reported as Redis reports them: the version as atoi reads it, a short file as a short read
  assert.throws(() => decode(v('0011')), (e: unknown) => e instanceof RdbError && e.reason === "Can't handle RDB format version 11");
  assert.throws(() => decode(v('abcd')), (e: unknown) => e instanceof RdbError && e.reason === "Can't handle RDB format version 0");
  assert.throws(() => decode(Buffer.from('REDIS')), (e: unknown) => e instanceof RdbError && /Unexpected EOF reading RDB file/.test(e.reason));
  assert.throws(() => decode(Buffer.from('RESIS0010\xff')), (e: unknown) => e instanceof RdbError && /Wrong signature/.test(e.reason));
  assert.throws(() => decode(Buffer.concat([Buffer.from('REDIS0010'), Buffer.from([C.RDB_OPCODE_SELECTDB, 16])])),
    (e: unknown) => e instanceof RdbError && /more than 16 databases/.test(e.reason));
});

test('listpack blobs of 64 KB or more built in the encoder scratch stay intact when the sink keeps its chunks', () => {
  // two listpack hashes over BUF_SIZE: the writer hands such a blob to the sink as it is, and the
  // second must not overwrite the first (the sink here keeps every chunk until the end)
  const ks = new Keyspace(16);
  // incompressible values: the blob is written raw even with rdbcompression yes
  let seed = 7;
  const noise = (n: number): string => {
    let out = '';
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      out += String.fromCharCode(seed >>> 24);
    }
    return out;
  };
  const big = (tag: string): Value => buildHash(['f1', tag + noise(40000), 'f2', tag + noise(40000)], 'listpack', { ...DEFAULT_LIMITS, hashValue: 1 << 20 })!;
  ks.dbs[0]!.setKey('h1', big('a'));
  ks.dbs[0]!.setKey('h2', big('b'));
  for (const compression of [true, false]) {
    const back = decode(encode(ks, { ...DEFAULT_SAVE_OPTIONS, compression, limits: { ...DEFAULT_LIMITS, hashValue: 1 << 20 } }));
    assert.deepEqual(lines(back.ks), lines(ks));
  }
});
