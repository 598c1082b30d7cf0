/**
 * The store check run before LevelDB opens a store (verify.ts): CRC-32C and Snappy against known
 * vectors, then a real store written by classic-level with one byte flipped at random places of
 * its live files: every flip is either refused with the file and an offset, or harmless (LevelDB
 * then reads exactly the records written, or all but the last write when the flip hit the log's
 * last record, which the check reports as a torn tail). Without the check, such flips load other
 * records silently or abort the process inside LevelDB (session 10's fuzz).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { crc32c, maskCrc, unmaskCrc } from '../../src/persistence/leveldb/crc32c.js';
import { snappyUncompress } from '../../src/persistence/leveldb/snappy.js';
import { LevelDbCorruption, verifyStore } from '../../src/persistence/leveldb/verify.js';
import { tempDirs } from '../helpers/servers.js';
import { prng } from '../helpers/prng.js';

const tmp = tempDirs('amber-leveldb-verify-');

test('crc32c matches the standard check values, and mask/unmask are inverses', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  // RFC 3720 B.4
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const inc = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(crc32c(inc), 0x46dd794e);
  // continuing from a previous result, across the 8-byte loop's edge
  const b = Buffer.from('the quick brown fox jumps over the lazy dog');
  for (const cut of [0, 1, 7, 8, 9, 20, b.length]) assert.equal(crc32c(b, cut, b.length, crc32c(b, 0, cut)), crc32c(b));
  for (const v of [0, 1, 0xffffffff, 0x12345678, 0xa282ead8]) assert.equal(unmaskCrc(maskCrc(v)), v);
});

test('crc32c of long inputs (the 32-bit path) equals the bit-at-a-time definition at any offset and alignment', () => {
  const bitwise = (b: Uint8Array, start: number, end: number): number => {
    let c = 0xffffffff;
    for (let i = start; i < end; i++) {
      c ^= b[i]!;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return ~c >>> 0;
  };
  const pool = Buffer.allocUnsafe(5000);
  for (let i = 0; i < pool.length; i++) pool[i] = (i * 2654435761) >>> 11;
  // a view that starts at an odd byte of its ArrayBuffer, as a table block inside a file does
  const b = pool.subarray(3);
  for (const [start, end] of [[0, 64], [1, 65], [5, 200], [7, 4103], [0, b.length], [13, b.length - 3]] as const) {
    assert.equal(crc32c(b, start, end), bitwise(b, start, end), `bytes ${start}-${end}`);
    const mid = Math.min(start + 67, end);
    assert.equal(crc32c(b, mid, end, crc32c(b, start, mid)), bitwise(b, start, end), `bytes ${start}-${end} in two calls`);
  }
});

test('snappy decodes literals and every copy form, and refuses malformed streams', () => {
  const dec = (bytes: number[]): string => Buffer.from(snappyUncompress(Uint8Array.from(bytes))).toString('latin1');
  // literal "abc", then a 2-byte-offset copy of 15 bytes from 3 back (overlapping: a repeat)
  assert.equal(dec([18, 0x08, 0x61, 0x62, 0x63, 0x3a, 3, 0]), 'abc'.repeat(6));
  // a 1-byte-offset copy: 7 bytes from 3 back
  assert.equal(dec([10, 0x08, 0x78, 0x79, 0x7a, 0x0d, 3]), 'xyzxyzxyzx');
  // a 4-byte-offset copy of 4 bytes from 4 back
  assert.equal(dec([8, 0x0c, 0x31, 0x32, 0x33, 0x34, 0x0f, 4, 0, 0, 0]), '12341234');
  // a literal of 100 bytes: length in one extra byte
  const lit = Array.from({ length: 100 }, (_, i) => 32 + (i % 90));
  assert.equal(dec([100, 0xf0, 99, ...lit]), String.fromCharCode(...lit));
  // a literal of 300 bytes: length in two extra bytes
  const lit2 = Array.from({ length: 300 }, (_, i) => i & 255);
  assert.equal(dec([0xac, 0x02, 0xf4, 0x2b, 0x01, ...lit2]), String.fromCharCode(...lit2));
  assert.equal(dec([0]), '');
  assert.throws(() => dec([4, 0x0d, 0]), /copy from before the start/); // offset 0
  assert.throws(() => dec([8, 0x00, 0x61, 0x0d, 2]), /copy from before the start/); // offset past what exists
  assert.throws(() => dec([20, 0x08, 0x61, 0x62, 0x63, 0x3a, 3, 0]), /announced/); // shorter than said
  assert.throws(() => dec([2, 0x08, 0x61, 0x62, 0x63]), /longer than/);
  assert.throws(() => dec([5, 0x10, 0x61]), /past the end/);
  assert.throws(() => dec([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), /bad uncompressed length/);
});

/** The offset of the last physical record's header in a LevelDB log file (log_format.h). */
function lastHeader(b: Buffer): number {
  let last = -1;
  for (let off = 0; off + 7 <= b.length;) {
    if (32768 - (off % 32768) < 7) {
      off += 32768 - (off % 32768);
      continue;
    }
    last = off;
    off += 7 + b.readUInt16LE(off + 4);
  }
  return last;
}

/** The records of a store, read with classic-level. */
async function readAll(path: string): Promise<Map<string, string>> {
  const db = new ClassicLevel<string, string>(path, { createIfMissing: false });
  await db.open();
  try {
    return new Map(await db.iterator().all());
  } finally {
    await db.close();
  }
}

/**
 * A store written by classic-level: small tables (several files, flushed and compacted), values
 * that compress and values that do not (both block types), values bigger than a log block
 * (fragmented log records), and a last write of its own (`last`) in the log. Returns its records
 * and where the last write starts in its log.
 */
async function makeStore(path: string): Promise<{ records: Map<string, string>; log: string; lastAt: number }> {
  const rnd = prng(20261121);
  const db = new ClassicLevel<string, string>(path, { writeBufferSize: 64 << 10 });
  await db.open();
  const records = new Map<string, string>();
  const put = async (k: string, v: string): Promise<void> => {
    await db.put(k, v);
    records.set(k, v);
  };
  for (let i = 0; i < 6000; i++) {
    const n = Math.floor(rnd() * 200);
    let v = '';
    if (rnd() < 0.5) v = 'v'.repeat(n) + i;
    else for (let j = 0; j < n; j++) v += String.fromCharCode(Math.floor(rnd() * 256));
    await put(`key:${Math.floor(rnd() * 4000)}`, v);
    if (i % 1000 === 999) {
      let big = '';
      for (let j = 0; j < 70000; j++) big += String.fromCharCode(Math.floor(rnd() * 256));
      await put(`big:${i}`, big);
    }
  }
  for (let i = 0; i < 300; i++) {
    const k = `key:${Math.floor(rnd() * 4000)}`;
    await db.del(k);
    records.delete(k);
  }
  // Reopen, so that the log's contents are decided here and not by when the memtable filled up:
  // DB::Open turns the old log into a table, deletes it and starts an empty one, and what follows
  // stays under writeBufferSize, so no switch to another log can come between the writes below.
  await db.close();
  await db.open();
  const logs = (): string[] => readdirSync(path).filter((n) => n.endsWith('.log'));
  for (let i = 0; i < 40; i++) await put(`tail:${i}`, 'w'.repeat(100 + i));
  let big = '';
  // ASCII, so that its 40000 characters are 40000 bytes: more than a 32 KB log block (a fragmented
  // record), and the whole reopened log stays under the 64 KB writeBufferSize
  for (let j = 0; j < 40000; j++) big += String.fromCharCode(Math.floor(rnd() * 128));
  await put('big:tail', big);
  for (let i = 40; i < 60; i++) await put(`tail:${i}`, 'w'.repeat(100 + i));
  // LevelDB writes each record through to the file (PosixWritableFile flushes per record)
  assert.equal(logs().length, 1, `one log after the reopen: ${logs().join(' ')}`);
  const log = logs()[0]!;
  const lastAt = statSync(join(path, log)).size;
  await put('last', 'the last write');
  await db.close();
  assert.deepEqual(logs(), [log], 'the last write went to the same log');
  return { records, log, lastAt };
}

test('a store written by classic-level passes; every flipped byte is refused with its file and offset, or harmless', async () => {
  const dir = tmp();
  const good = join(dir, 'good');
  const { records } = await makeStore(good);
  const progress: number[] = [];
  const check = await verifyStore(good, (bytes) => progress.push(bytes));
  assert.ok(check.tables >= 2, `tables: ${check.tables}`);
  // one progress call per file checked: the MANIFEST, the tables, the logs
  assert.equal(progress.length, 1 + check.tables + check.logs);
  assert.equal(progress.reduce((a, b) => a + b, 0), check.bytes);
  assert.equal(check.logs, 1);
  assert.deepEqual(check.tornTails, []);
  // LevelDB rewrites a store it opens (the log goes into a table): read a copy
  cpSync(good, join(dir, 'read'), { recursive: true });
  assert.deepEqual(await readAll(join(dir, 'read')), records);

  const files = readdirSync(good).filter((n) => /^(CURRENT|MANIFEST-\d+|\d+\.(ldb|log))$/.test(n));
  const rnd = prng(7);
  const outcomes = { refused: 0, harmless: 0, torn: 0 };
  const refusedIn = new Set<string>();
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < 120 && Date.now() < deadline; i++) {
    // tables and logs hold nearly all the bytes; CURRENT and the MANIFEST get a share of their own
    const file = i % 10 === 0 ? 'CURRENT' : i % 10 === 1 ? files.find((n) => n.startsWith('MANIFEST-'))! : files[Math.floor(rnd() * files.length)]!;
    const copy = join(dir, `flip${i}`);
    cpSync(good, copy, { recursive: true });
    const target = join(copy, file);
    const bytes = readFileSync(target);
    const offset = Math.floor(rnd() * bytes.length);
    bytes[offset] ^= 1 << Math.floor(rnd() * 8);
    writeFileSync(target, bytes);
    const what = `flip of ${file} at ${offset}`;
    // logs are checked in chunks of whole blocks: one block at a time must find the same
    const outcome = async (chunk?: number): Promise<string> => {
      try {
        return JSON.stringify(await verifyStore(copy, undefined, chunk));
      } catch (e) {
        return String(e);
      }
    };
    assert.equal(await outcome(32768), await outcome(), `${what}: checked a block at a time`);
    let result: Awaited<ReturnType<typeof verifyStore>> | null = null;
    try {
      result = await verifyStore(copy);
    } catch (e) {
      assert.ok(e instanceof LevelDbCorruption, `${what}: ${String(e)}`);
      // the file named is the one flipped (a flip in CURRENT can name the MANIFEST it now points to)
      assert.ok(e.file === file || file === 'CURRENT', `${what}: refused naming ${e.file}: ${e.message}`);
      assert.ok(e.offset >= 0 && e.offset <= bytes.length, `${what}: offset ${e.offset}`);
      assert.ok(e.message.startsWith(`corrupt file ${join(copy, e.file)} at offset ${e.offset}: `), e.message);
      outcomes.refused++;
      refusedIn.add(file.replace(/^\d+|-\d+$/g, ''));
    }
    if (result !== null) {
      const read = await readAll(copy);
      if (result.tornTails.length > 0) {
        // the log's last record damaged: what a crash leaves too, and LevelDB drops it
        assert.match(file, /\.log$/, what);
        const expected = new Map(records);
        expected.delete('last');
        assert.deepEqual(read, expected, `${what}: the torn tail holds the last write only`);
        outcomes.torn++;
      } else {
        assert.deepEqual(read, records, `${what}: passed the check, so LevelDB must read every record`);
        outcomes.harmless++;
      }
    }
    rmSync(copy, { recursive: true, force: true });
  }
  console.log(`# flips: ${JSON.stringify(outcomes)}, refused in ${[...refusedIn].join(' ')}`);
  assert.ok(outcomes.refused >= 20, JSON.stringify(outcomes));
  assert.ok(refusedIn.has('.ldb') && refusedIn.has('.log') && refusedIn.has('CURRENT') && refusedIn.has('MANIFEST'), [...refusedIn].join(' '));
});

test("the log's last record cut anywhere is a torn tail LevelDB drops; a bad record before valid ones is refused", async () => {
  const dir = tmp();
  const good = join(dir, 'good');
  const { records, log: logName, lastAt } = await makeStore(good);
  const size = statSync(join(good, logName)).size;
  const withoutLast = new Map(records);
  withoutLast.delete('last');
  const copy = join(dir, 'cut');
  for (let cut = lastAt; cut < size; cut++) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(good, copy, { recursive: true });
    truncateSync(join(copy, logName), cut);
    const check = await verifyStore(copy, undefined, cut % 2 === 0 ? 32768 : undefined);
    // none only for a cut in the zeros the writer pads a block's last bytes with
    const padding = readFileSync(join(good, logName)).subarray(lastAt, cut).every((x) => x === 0) && (cut % 32768 === 0);
    if (cut === lastAt || padding) assert.deepEqual(check.tornTails, [], `cut at ${cut}`);
    else {
      assert.equal(check.tornTails.length, 1, `cut at ${cut}`);
      assert.equal(check.tornTails[0]!.file, logName);
      assert.equal(check.tornTails[0]!.offset + check.tornTails[0]!.bytes, cut);
      assert.ok(check.tornTails[0]!.offset >= lastAt, `cut at ${cut}: ${JSON.stringify(check.tornTails)}`);
    }
    assert.deepEqual(await readAll(copy), withoutLast, `cut at ${cut}`);
  }
  // the last record whole but its length field damaged: not what a crash leaves
  rmSync(copy, { recursive: true, force: true });
  cpSync(good, copy, { recursive: true });
  const whole = readFileSync(join(copy, logName));
  const at = lastHeader(whole);
  whole.writeUInt16LE(whole.readUInt16LE(at + 4) + 1, at + 4);
  writeFileSync(join(copy, logName), whole);
  await assert.rejects(verifyStore(copy), new RegExp(`corrupt file .*/${logName} at offset ${at}: bad record length .* match its checksum`));
  // a bad byte in the log's first record: LevelDB would drop its 32 KB block and replay the rest
  rmSync(copy, { recursive: true, force: true });
  cpSync(good, copy, { recursive: true });
  const log = readFileSync(join(copy, logName));
  log[20] ^= 0x40;
  writeFileSync(join(copy, logName), log);
  await assert.rejects(verifyStore(copy), (e: unknown) => {
    assert.ok(e instanceof LevelDbCorruption);
    assert.equal(e.file, logName);
    assert.equal(e.offset, 0);
    assert.match(e.message, /record checksum mismatch, with a valid record after it/);
    assert.match(e.message, /truncate -s 0 /);
    return true;
  });
});

test('tables missing, longer than the MANIFEST says, or a CURRENT naming no MANIFEST are refused', async () => {
  const dir = tmp();
  const good = join(dir, 'good');
  await makeStore(good);
  const tables = readdirSync(good).filter((n) => n.endsWith('.ldb'));
  const fresh = (name: string): string => {
    const p = join(dir, name);
    cpSync(good, p, { recursive: true });
    return p;
  };
  let p = fresh('missing');
  rmSync(join(p, tables[0]!));
  await assert.rejects(verifyStore(p), new RegExp(`corrupt file .*/${tables[0]} at offset 0: the table is listed in MANIFEST-\\d+ but missing`));
  p = fresh('longer');
  appendFileSync(join(p, tables[0]!), 'x');
  await assert.rejects(verifyStore(p), /the table is \d+ bytes where the MANIFEST records \d+/);
  p = fresh('current');
  writeFileSync(join(p, 'CURRENT'), 'MANIFEST-999999\n');
  await assert.rejects(verifyStore(p), /corrupt file .*\/CURRENT at offset 0: it names MANIFEST-999999, which does not exist/);
  // no CURRENT: nothing to check (a new store; the engine refuses LevelDB files without one)
  p = fresh('headless');
  rmSync(join(p, 'CURRENT'));
  assert.deepEqual(await verifyStore(p), { tables: 0, logs: 0, bytes: 0, tornTails: [] });
});

test('stores of other shapes pass: no compression, small and big blocks, small files, restart intervals, values of MBs', async () => {
  const shapes: Array<Record<string, number | boolean>> = [
    { compression: false },
    { blockSize: 256, blockRestartInterval: 1 },
    { blockSize: 256 * 1024, blockRestartInterval: 64 },
    { maxFileSize: 32 * 1024, writeBufferSize: 32 * 1024 },
  ];
  const rnd = prng(99);
  for (const shape of shapes) {
    const dir = join(tmp(), 'store');
    const db = new ClassicLevel<string, string>(dir, { writeBufferSize: 64 << 10, ...shape });
    await db.open();
    const records = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      let k = `k${i}:`;
      for (let j = Math.floor(rnd() * 20); j > 0; j--) k += String.fromCharCode(Math.floor(rnd() * 256));
      const big = i % 997 === 0;
      const n = big ? 1_500_000 + Math.floor(rnd() * 100_000) : Math.floor(rnd() * 300);
      const v = rnd() < 0.5 ? 'a'.repeat(n) : Array.from({ length: Math.min(n, 2000) }, () => String.fromCharCode(Math.floor(rnd() * 256))).join('').repeat(Math.max(1, Math.ceil(n / 2000)));
      await db.put(k, v);
      records.set(k, v);
    }
    await db.close();
    const check = await verifyStore(dir);
    assert.deepEqual(check.tornTails, [], JSON.stringify(shape));
    assert.ok(check.tables + check.logs > 0, JSON.stringify(shape));
    const copy = join(tmp(), 'read');
    cpSync(dir, copy, { recursive: true });
    assert.deepEqual(await readAll(copy), records, JSON.stringify(shape));
  }
});
