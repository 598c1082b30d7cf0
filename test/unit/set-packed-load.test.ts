/**
 * Hashtable sets loaded from RDB_TYPE_SET (also LevelDB's inline blobs) stay packed until first
 * used (RedisSet.fromPacked): the load checks what the eager load checks (a duplicate member is
 * refused; a set buildSet would make an intset is built as before), SCARD needs no unpacking, a
 * packed set saves its members and DUMPs to a payload that restores to the same set, and every
 * set command on it answers as on a set built by SADD (each command meets a key nobody touched
 * since the load; member order is compared through SORT ... ALPHA, since a hashtable's order is
 * its own).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisSet } from '../../src/keyspace/types/set.js';
import { RdbWriter, DEFAULT_SAVE_OPTIONS } from '../../src/persistence/rdb/encoder.js';
import { RdbReader, RdbError } from '../../src/persistence/rdb/reader.js';
import { loadObject } from '../../src/persistence/rdb/decoder.js';
import { DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import * as C from '../../src/persistence/rdb/constants.js';
import { rewriteValue } from '../../src/persistence/aof/base-resp.js';
import { withLoadedTwin, sameReplies, RawClient } from '../helpers/servers.js';

/** Decodes an RDB_TYPE_SET value of `members` (written as the encoder writes strings). */
function decodeSet(members: string[]): RedisSet {
  const chunks: Buffer[] = [];
  const w = new RdbWriter((c) => chunks.push(Buffer.from(c)), DEFAULT_SAVE_OPTIONS, true);
  w.len(members.length);
  for (const m of members) w.string(m);
  w.flush();
  const body = Buffer.concat(chunks);
  const r = new RdbReader(body);
  const v = loadObject(r, C.RDB_TYPE_SET, DEFAULT_LIMITS);
  assert.equal(r.offset, body.length);
  assert.ok(v instanceof RedisSet);
  return v;
}

test('a hashtable set loads packed (long, LZF-compressed and integer members included) and unpacks to the same members; duplicates and intsets as before', () => {
  const long = 'L'.repeat(300);
  const lzf = 'abc'.repeat(40);
  const members = ['x', '', '12', '-7', long, lzf, 'é\u00ff\u0000bin'];
  const s = decodeSet(members);
  assert.notEqual(s.packedMembers, null);
  assert.equal(s.size, members.length);
  assert.notEqual(s.packedMembers, null, 'SCARD-like size needs no unpacking');
  assert.equal(s.encoding(), 'hashtable');
  // the AOF rewrite reads a packed set without unpacking it
  const resp = rewriteValue('k', s);
  assert.notEqual(s.packedMembers, null);
  const args = resp.split('\r\n').filter((_, i) => i > 0 && i % 2 === 0).slice(2);
  assert.deepEqual(args.sort(), [...members].sort());
  assert.deepEqual([...s.members()].sort(), [...members].sort());
  // so does forEach (a LevelDB import writing the set out)
  const seen: string[] = [];
  s.forEach((out, m) => void out.push(m), seen);
  assert.deepEqual(seen.sort(), [...members].sort());
  assert.notEqual(s.packedMembers, null);
  for (const m of members) assert.ok(s.has(m));
  assert.equal(s.packedMembers, null);
  for (const m of members) assert.ok(s.has(m));
  // a member twice
  assert.throws(() => decodeSet(['a', 'b', 'a']), (e: unknown) => e instanceof RdbError && /Duplicate set members detected/.test(e.reason));
  assert.throws(() => decodeSet(['a', 'x'.repeat(300), 'x'.repeat(300)]), RdbError);
  // all integers: an intset, as buildSet makes it
  const ints = decodeSet(['3', '1', '2']);
  assert.equal(ints.packedMembers, null);
  assert.equal(ints.encoding(), 'intset');
  // a first member that is an integer, then others: built as before (an intset converted)
  const mixed = decodeSet(['1', 'a']);
  assert.equal(mixed.packedMembers, null);
  assert.equal(mixed.encoding(), 'hashtable');
  // clone shares the packed members
  const p = decodeSet(['q', 'r']);
  assert.equal(p.clone().packedMembers, p.packedMembers);
});

test('every set command on a set loaded packed answers as on one built by SADD', async () => {
  const sorted = (k: string): string[] => ['SORT', k, 'ALPHA'];
  const tests: Array<(k: string) => string[][]> = [
    (k) => [['SCARD', k]],
    (k) => [['SISMEMBER', k, 'member:7'], ['SISMEMBER', k, 'nope']],
    (k) => [['SMISMEMBER', k, 'member:1', 'x', '42']],
    (k) => [['SADD', k, 'new', 'member:3'], sorted(k)],
    (k) => [['SREM', k, 'member:0', 'absent', '42'], sorted(k)],
    (k) => [['SMOVE', k, `${k}:dst`, 'member:5'], sorted(k), sorted(`${k}:dst`)],
    (k) => [['SPOP', k, '100'], ['SCARD', k]],
    (k) => [['SMEMBERS', k], sorted(k)],
    (k) => [['SINTERCARD', '2', k, k]],
    (k) => [['SUNIONSTORE', `${k}:u`, k, k], sorted(`${k}:u`)],
    (k) => [['SINTERSTORE', `${k}:i`, k, k], sorted(`${k}:i`)],
    (k) => [['SDIFFSTORE', `${k}:d`, k, k], ['EXISTS', `${k}:d`]],
    (k) => [['OBJECT', 'ENCODING', k], ['TYPE', k]],
    (k) => [['COPY', k, `${k}:c`], sorted(`${k}:c`)],
    (k) => [['RENAME', k, `${k}:n`], sorted(`${k}:n`)],
    (k) => [['SRANDMEMBER', k, '1000'], ['SCARD', k]],
    (k) => [['EXPIRE', k, '1000'], ['TTL', k]],
    (k) => [['DEL', k], ['EXISTS', k]],
  ];
  const fill = (key: string): string[] => {
    const args = ['SADD', key];
    for (let i = 0; i < 40; i++) args.push(`member:${i}`);
    args.push('x'.repeat(100), '42');
    return args;
  };
  const isPacked = (v: unknown): boolean => v instanceof RedisSet && v.packedMembers !== null;
  await withLoadedTwin({ prefix: 's:', fill, tests, isPacked }, async ({ eager, loaded, cmds }) => {
    // SPOP/SMEMBERS/SRANDMEMBER return the whole set in the hashtable's own order: compared sorted
    const norm = (r: string): string => {
      if (!r.startsWith('*')) return r;
      const parts = r.split('\r\n');
      const items: string[] = [];
      for (let i = 1; i + 1 < parts.length; i += 2) items.push(parts[i + 1]!);
      return items.sort().join(',');
    };
    const [a, b] = await sameReplies(eager.port, loaded.port, cmds);
    assert.deepEqual(b.map(norm), a.map(norm));
    // DUMP of a packed set restores to the same members
    const pc = await RawClient.connect(loaded.port);
    const k = 's:17';
    await pc.call('DEL', k);
    const fresh = 's:16';
    const dump = await pc.call('DUMP', fresh);
    assert.ok(dump.startsWith('$'));
    const payload = dump.slice(dump.indexOf('\r\n') + 2, -2);
    assert.equal(await pc.call('RESTORE', 'restored', '0', payload), '+OK\r\n');
    assert.equal(await pc.call('SORT', 'restored', 'ALPHA'), await pc.call('SORT', fresh, 'ALPHA'));
    pc.close();
  });
});
