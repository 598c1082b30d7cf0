/**
 * HyperLogLog compared byte for byte with redis-server 7.0.15: the raw HLL strings left by the
 * same PFADD sequences (sparse, promoted, dense, under several hll-sparse-max-bytes), PFCOUNT
 * (cached and recomputed, one key and several), PFMERGE, PFDEBUG, HLLs moved between the servers
 * with GET/SET and DUMP/RESTORE, crafted register arrays (the estimator over many
 * distributions), corrupted values, errors, RESP3, and keyspace notifications.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/servers.js';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair({ clients: 'resp2' });
const { skip } = pair;

/** Runs the commands on both servers (pipelined) and asserts identical replies. */
const same = (cmds: string[][], a = pair.ca, r = pair.cr): Promise<string[]> => pair.sameOn(cmds, a, r, 'reply to ');

async function reset(): Promise<void> {
  await same([['FLUSHALL'], ['CONFIG', 'SET', 'hll-sparse-max-bytes', '3000']]);
}

let seed = 42;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
}

/** PFADD commands adding `n` elements to `key` in batches of 1..maxBatch. */
function pfadds(key: string, n: number, prefix: string, maxBatch = 40): string[][] {
  const cmds: string[][] = [];
  for (let i = 0; i < n; ) {
    const m = Math.min(n - i, 1 + (rnd() % maxBatch));
    const els: string[] = [];
    for (let j = 0; j < m; j++) els.push(prefix + (i + j));
    cmds.push(['PFADD', key, ...els]);
    i += m;
  }
  return cmds;
}

test('PFADD sequences leave identical bytes: sparse, promotion, dense', { skip }, async () => {
  await reset();
  await same([['PFADD', 'empty'], ['GET', 'empty'], ['PFADD', 'empty'], ['PFCOUNT', 'empty'], ['GET', 'empty']]);
  for (const n of [1, 3, 10, 100, 400, 1000, 2000, 3000, 5000, 20000]) {
    const k = 'h' + n;
    await same(pfadds(k, n, 'e'));
    await same([['GET', k], ['PFDEBUG', 'ENCODING', k], ['PFDEBUG', 'DECODE', k], ['PFCOUNT', k], ['GET', k], ['PFCOUNT', k]]);
    // re-adding known elements changes nothing
    await same([['PFADD', k, 'e0'], ['PFADD', k, 'e0', 'e1'], ['GET', k]]);
  }
  // binary and long elements, repeated elements in one call
  const bin = Array.from({ length: 200 }, (_, i) => String.fromCharCode(i % 256).repeat(1 + (i % 17)) + '\0\xff' + i);
  await same([['PFADD', 'bin', ...bin], ['PFADD', 'bin', 'x', 'x', 'x'], ['GET', 'bin'], ['PFCOUNT', 'bin']]);
});

test('hll-sparse-max-bytes governs promotion exactly', { skip }, async () => {
  await reset();
  for (const max of ['0', '20', '64', '300', '1kb', '10000']) {
    await same([['CONFIG', 'SET', 'hll-sparse-max-bytes', max], ['CONFIG', 'GET', 'hll-sparse-max-bytes']]);
    for (let t = 0; t < 3; t++) {
      const k = `s${max}_${t}`;
      const cmds: string[][] = [];
      const n = rnd() % 4000;
      for (let i = 0; i < n; ) {
        const m = 1 + (rnd() % 15);
        const els: string[] = [];
        for (let j = 0; j < m; j++) els.push(String(rnd() % 50000));
        cmds.push(['PFADD', k, ...els]);
        if (rnd() % 8 === 0) cmds.push(['PFCOUNT', k]);
        i += m;
      }
      await same(cmds);
      await same([['GET', k], ['PFDEBUG', 'ENCODING', k], ['PFCOUNT', k]]);
    }
    await same([['PFMERGE', `m${max}`, `s${max}_0`, `s${max}_1`], ['GET', `m${max}`], ['PFMERGE', `m${max}`, `s${max}_2`], ['GET', `m${max}`], ['PFCOUNT', `m${max}`]]);
  }
  await same([['CONFIG', 'SET', 'hll-sparse-max-bytes', '-1'], ['CONFIG', 'SET', 'hll-sparse-max-bytes', 'x'], ['CONFIG', 'GET', 'hll-sparse-max-bytes']]);
});

test('PFMERGE and PFCOUNT over several keys', { skip }, async () => {
  await reset();
  await same([...pfadds('a', 50, 'a'), ...pfadds('b', 700, 'b'), ...pfadds('c', 6000, 'c'), ...pfadds('d', 9000, 'd')]);
  await same([
    ['PFCOUNT', 'a', 'b'], ['PFCOUNT', 'a', 'c'], ['PFCOUNT', 'a', 'b', 'c', 'd'], ['PFCOUNT', 'a', 'nokey'], ['PFCOUNT', 'nokey', 'nokey2'], ['PFCOUNT', 'a', 'a'],
    ['PFMERGE', 'ab', 'a', 'b'], ['GET', 'ab'], ['PFCOUNT', 'ab'],
    ['PFMERGE', 'ac', 'a', 'c'], ['GET', 'ac'], ['PFCOUNT', 'ac'],
    ['PFMERGE', 'a', 'b'], ['GET', 'a'],
    ['PFMERGE', 'b', 'c', 'd'], ['GET', 'b'], ['PFCOUNT', 'b'],
    ['PFMERGE', 'only'], ['GET', 'only'], ['PFMERGE', 'only', 'only'], ['GET', 'only'],
    ['PFMERGE', 'c'], ['GET', 'c'],
    ['PFMERGE', 'x', 'nokey'], ['GET', 'x'], ['PFCOUNT', 'x'],
    ['SET', 'ttl', 'v'], ['DEL', 'ttl'], ['PFADD', 'ttl', 'q'], ['EXPIRE', 'ttl', '1000'], ['PFMERGE', 'ttl', 'a'], ['TTL', 'ttl'], ['PFADD', 'ttl', 'zz9'], ['TTL', 'ttl'], ['PFCOUNT', 'ttl'], ['TTL', 'ttl'],
  ]);
});

/** A dense HLL string with the given registers (one byte each) and header bytes. */
function denseHll(regs: Uint8Array, card: Buffer = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x80])): string {
  const b = Buffer.alloc(16 + 12288);
  b.write('HYLL', 0, 'latin1');
  card.copy(b, 8);
  for (let i = 0; i < 16384; i++) {
    const bit = i * 6;
    const byte = 16 + (bit >> 3);
    const fb = bit & 7;
    b[byte] = b[byte]! | ((regs[i]! << fb) & 0xff);
    if (fb > 2) b[byte + 1] = b[byte + 1]! | (regs[i]! >> (8 - fb));
  }
  return b.latin1Slice();
}

test('HLLs exchanged between the servers count the same', { skip }, async () => {
  await reset();
  // written by Redis, read by Amber, and the reverse
  for (const n of [0, 5, 300, 2500, 12000]) {
    for (const [from, to] of [[pair.cr, pair.ca], [pair.ca, pair.cr]] as const) {
      await from.pipeline(pfadds('x', n, 'z' + n));
      if (n === 0) await from.call('PFADD', 'x');
      const raw = (await from.call('GET', 'x')).split('\r\n').slice(1, -1).join('\r\n');
      await to.call('SET', 'x', raw);
      assert.equal(await to.call('PFCOUNT', 'x'), await from.call('PFCOUNT', 'x'));
      assert.equal(await to.call('GET', 'x'), await from.call('GET', 'x'));
      await same([['PFADD', 'x', 'late1', 'late2'], ['GET', 'x'], ['PFCOUNT', 'x'], ['DEL', 'x']]);
    }
  }
  // DUMP payloads of Redis restored in Amber
  await pair.cr.pipeline([...pfadds('d1', 100, 'd'), ...pfadds('d2', 8000, 'd')]);
  for (const k of ['d1', 'd2']) {
    const dump = (await pair.cr.call('DUMP', k)).split('\r\n').slice(1, -1).join('\r\n');
    assert.equal(await pair.ca.call('RESTORE', k, '0', dump), '+OK\r\n');
    assert.equal(await pair.ca.call('PFCOUNT', k), await pair.cr.call('PFCOUNT', k));
    assert.equal(await pair.ca.call('GET', k), await pair.cr.call('GET', k));
  }
});

test('the estimator over crafted register distributions', { skip }, async () => {
  await reset();
  const cmds: string[][] = [];
  for (let t = 0; t < 60; t++) {
    const regs = new Uint8Array(16384);
    const kind = t % 6;
    for (let i = 0; i < 16384; i++) {
      if (kind === 0) regs[i] = rnd() % 2 === 0 ? 0 : 1 + (rnd() % 3);
      else if (kind === 1) regs[i] = 1 + (rnd() % 12);
      else if (kind === 2) regs[i] = rnd() % 100 === 0 ? 1 : 0;
      else if (kind === 3) regs[i] = 20 + (rnd() % 32);
      else if (kind === 4) regs[i] = rnd() % 64;
      else regs[i] = t < 30 ? 50 + (rnd() % 2) : 51;
    }
    if (t === 59) regs.fill(63);
    cmds.push(['SET', 'r' + t, denseHll(regs)], ['PFCOUNT', 'r' + t], ['GET', 'r' + t], ['PFCOUNT', 'r' + t]);
    if (t > 0) cmds.push(['PFCOUNT', 'r' + t, 'r' + (t - 1)]);
  }
  await same(cmds);
  // a cached cardinality is returned as stored, whatever the registers say
  const regs = new Uint8Array(16384);
  for (const card of [[1, 0, 0, 0, 0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], [0, 0, 0, 0, 0, 0, 0x20, 0]]) {
    await same([['SET', 'c', denseHll(regs, Buffer.from(card))], ['PFCOUNT', 'c'], ['PFADD', 'c', 'a'], ['PFCOUNT', 'c'], ['GET', 'c']]);
  }
});

test('crafted and corrupted sparse and dense values', { skip }, async () => {
  await reset();
  const S = 'HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80';
  const D = 'HYLL\x00\0\0\0\0\0\0\0\0\0\0\x80';
  const sparseOps = [
    '\x7f\xff',
    '\x40\x00\x80\x7f\xfd', // XZERO:1, VAL:1, XZERO:16382
    '\x80\x84\x7f\xfd', // VAL:1 VAL:2 XZERO:16382
    '\x83\x7f\xfb', // VAL:1x4 XZERO:16380
    '\x00\x7f\xfe', // ZERO:1 XZERO:16383
    '\x7f\xfe\xfc', // XZERO:16383 VAL:32
    '\x7f\xff\x00', // one register too many
    '\x7f\xfe', // one too few
    '',
    '\x7f', // truncated XZERO
    '\x3f\x3f\x7f\x7f', // ZERO:64 ZERO:64 XZERO:16256
  ];
  const cmds: string[][] = [];
  sparseOps.forEach((ops, i) => {
    const k = 'sp' + i;
    cmds.push(['SET', k, S + ops], ['PFCOUNT', k], ['PFDEBUG', 'DECODE', k], ['PFADD', k, 'a', 'b', 'c', 'd'], ['GET', k], ['PFCOUNT', k], ['PFCOUNT', k, 'sp0'], ['PFMERGE', 'mm' + i, k], ['GET', 'mm' + i]);
    cmds.push(['SET', k, S + ops], ['PFDEBUG', 'TODENSE', k], ['PFDEBUG', 'ENCODING', k], ['GET', k]);
    cmds.push(['SET', k, S + ops], ['PFDEBUG', 'GETREG', k], ['GET', k]);
  });
  // cached card valid on a header-only sparse: returned without looking at the registers
  cmds.push(['SET', 'hdr', 'HYLL\x01\0\0\0\x05\0\0\0\0\0\0\0'], ['PFCOUNT', 'hdr'], ['PFADD', 'hdr', 'x']);
  // not HLLs
  for (const v of ['HYLL', 'HYLL\x02\0\0\0\0\0\0\0\0\0\0\0\x7f\xff', D + '\x7f\xff', 'HYLX\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff', '12345678901234567', '']) {
    cmds.push(['SET', 'bad', v], ['PFADD', 'bad', 'a'], ['PFCOUNT', 'bad'], ['PFCOUNT', 'bad', 'sp0'], ['PFMERGE', 'bad', 'sp0'], ['PFMERGE', 'dst', 'bad'], ['PFDEBUG', 'ENCODING', 'bad'], ['GET', 'bad']);
  }
  // dense values damaged with SETRANGE
  cmds.push(...pfadds('dn', 6000, 'q'));
  cmds.push(['SETRANGE', 'dn', '100', '\xff\xff\xff\xff'], ['PFCOUNT', 'dn'], ['PFADD', 'dn', 'n1', 'n2', 'n3'], ['GET', 'dn']);
  cmds.push(['SETRANGE', 'dn', '15', '\x00'], ['PFCOUNT', 'dn'], ['SETRANGE', 'dn', '12304', 'x'], ['PFCOUNT', 'dn'], ['PFADD', 'dn', 'a']);
  cmds.push(['PFADD', 'ap', 'a'], ['APPEND', 'ap', '\x40'], ['PFADD', 'ap', 'b', 'c', 'd', 'e', 'f'], ['GET', 'ap'], ['PFDEBUG', 'DECODE', 'ap'], ['PFCOUNT', 'ap']);
  await same(cmds);
});

test('errors and PFDEBUG', { skip }, async () => {
  await reset();
  await same([
    ['RPUSH', 'list', 'a'], ['PFADD', 'list', 'a'], ['PFCOUNT', 'list'], ['PFCOUNT', 'list', 'x'], ['PFCOUNT', 'x', 'list'], ['PFMERGE', 'list'], ['PFMERGE', 'd', 'list'], ['PFMERGE', 'list', 'nokey'], ['PFDEBUG', 'ENCODING', 'list'],
    ['PFADD'], ['PFCOUNT'], ['PFMERGE'], ['PFDEBUG'], ['PFDEBUG', 'GETREG'], ['PFDEBUG', 'GETREG', 'a', 'b'], ['PFSELFTEST', 'x'],
    ['PFADD', 'h', 'a', 'b'],
    ['PFDEBUG', 'ENCODING', 'nokey'], ['PFDEBUG', 'FOO', 'nokey'], ['PFDEBUG', 'FOO', 'h'], ['PFDEBUG', 'FOO\0BAR', 'h'], ['PFDEBUG', 'FOO\r\nX', 'h'],
    ['PFDEBUG', 'encoding', 'h'], ['PFDEBUG', 'DECODE', 'h'], ['PFDEBUG', 'decode\0x', 'h'], ['PFDEBUG', 'GETREG', 'h'], ['PFDEBUG', 'ENCODING', 'h'], ['PFDEBUG', 'DECODE', 'h'], ['PFDEBUG', 'TODENSE', 'h'], ['GET', 'h'],
    ['PFADD', 'h2', 'a'], ['PFDEBUG', 'TODENSE', 'h2'], ['PFDEBUG', 'TODENSE', 'h2'], ['GET', 'h2'], ['PFCOUNT', 'h2'],
    ['MULTI'], ['PFADD', 'm', 'x'], ['PFCOUNT', 'm'], ['PFMERGE', 'm2', 'm'], ['EXEC'],
  ]);
});

test('RESP3 replies', { skip }, async () => {
  await reset();
  const a3 = await RawClient.connect(pair.amber.port);
  const r3 = await RawClient.connect(pair.redis.port);
  try {
    await a3.call('HELLO', '3');
    await r3.call('HELLO', '3');
    await same([['PFADD', 'h', 'a', 'b', 'c'], ['PFCOUNT', 'h'], ['PFCOUNT', 'h', 'nokey'], ['PFMERGE', 'm', 'h'], ['PFDEBUG', 'ENCODING', 'h'], ['PFDEBUG', 'DECODE', 'h'], ['SET', 's', 'x'], ['PFADD', 's', 'x']], a3, r3);
  } finally {
    a3.close();
    r3.close();
  }
});

/** Reads pushed messages until the one on channel `marker`. */
async function messagesUntilMarker(sub: RawClient): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const [m] = await sub.read(1);
    if (m!.includes('marker')) return out;
    out.push(m!);
  }
}

test('keyspace notifications: pfadd for PFADD and PFMERGE, none for PFCOUNT', { skip }, async () => {
  await reset();
  await same([['CONFIG', 'SET', 'notify-keyspace-events', 'KEA']]);
  const subs = await Promise.all([RawClient.connect(pair.amber.port), RawClient.connect(pair.redis.port)]);
  try {
    for (const s of subs) {
      await s.call('PSUBSCRIBE', '__key*__:*');
      await s.call('SUBSCRIBE', 'marker');
    }
    const cmds = [['PFADD', 'n', 'a'], ['PFADD', 'n', 'a'], ['PFCOUNT', 'n'], ['PFMERGE', 'n2', 'n'], ['PFCOUNT', 'n', 'n2', 'miss'], ['PFADD', 'n'], ['PUBLISH', 'marker', 'x']];
    await same(cmds);
    const [ma, mr] = await Promise.all(subs.map(messagesUntilMarker));
    assert.deepEqual(ma, mr);
  } finally {
    for (const s of subs) s.close();
    await same([['CONFIG', 'SET', 'notify-keyspace-events', '']]);
  }
});
