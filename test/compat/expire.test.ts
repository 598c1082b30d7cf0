/**
 * Expire commands against redis-server 7.0.15, byte for byte: EXPIRE, PEXPIRE, EXPIREAT,
 * PEXPIREAT with NX|XX|GT|LT, their errors and overflow checks, past times deleting the key, TTL,
 * PTTL, EXPIRETIME, PEXPIRETIME and PERSIST, in RESP2 and RESP3. Relative TTLs are compared in
 * seconds (both servers round the same way); absolute times are compared exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameReplies } from '../helpers/servers.js';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair({ clients: 'none' });
const { skip } = pair;

async function assertSame(cmds: string[][], hello3 = false): Promise<void> {
  const [a, r] = await sameReplies(pair.amber.port, pair.redis.port, cmds, hello3);
  for (let i = 0; i < cmds.length; i++) {
    assert.equal(a[i], r[i], `reply to ${JSON.stringify(cmds[i])} (#${i})`);
  }
}

const FAR_S = '4000000000'; // year 2096, seconds
const FAR_MS = '4000000000123';

test('EXPIRE family with NX, XX, GT, LT', { skip }, async () => {
  const cmds: string[][] = [['FLUSHALL']];
  const variants: Array<[string, string, string]> = [
    ['EXPIRE', '100', '200'], ['PEXPIRE', '100000', '200000'],
    ['EXPIREAT', FAR_S, '4000000100'], ['PEXPIREAT', FAR_MS, '4000000100456'],
  ];
  for (const [cmd, t1, t2] of variants) {
    // After a relative time TTL is stable (rounded seconds); after an absolute one only
    // PEXPIRETIME is (TTL's rounding then depends on the clock's milliseconds).
    const ttl = cmd.endsWith('AT') ? 'PEXPIRETIME' : 'TTL';
    for (const flags of [[], ['NX'], ['XX'], ['GT'], ['LT'], ['nx'], ['xx', 'gt'], ['XX', 'LT'], ['gt', 'XX'], ['LT', 'lt']]) {
      cmds.push(
        ['SET', 'k', 'v'], [cmd, 'k', t1, ...flags], [ttl, 'k'],
        [cmd, 'k', t2, ...flags], [ttl, 'k'], [cmd, 'k', t1, ...flags], [ttl, 'k'],
        ['PERSIST', 'k'], [cmd, 'k', t1, ...flags], [ttl, 'k'], [cmd, 'nokey', t1, ...flags],
      );
    }
  }
  cmds.push(['SET', 'k', 'v', 'EX', '100'], ['EXPIRE', 'k', '-5', 'GT'], ['EXPIRE', 'k', '-5', 'LT'], ['EXISTS', 'k']);
  cmds.push(['SET', 'k', 'v'], ['EXPIRE', 'k', '-5', 'LT'], ['EXISTS', 'k']);
  cmds.push(['SET', 'k', 'v'], ['EXPIRE', 'k', '-5', 'XX'], ['EXPIRE', 'k', '-5', 'NX'], ['EXISTS', 'k']);
  await assertSame(cmds);
});

test('EXPIRE family errors and overflow', { skip }, async () => {
  const cmds: string[][] = [['FLUSHALL'], ['SET', 'a', '1']];
  for (const cmd of ['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT']) {
    cmds.push(
      [cmd, 'a', '10', 'NX', 'XX'], [cmd, 'a', '10', 'GT', 'LT'], [cmd, 'a', '10', 'NX', 'GT'], [cmd, 'a', '10', 'lt', 'nx'],
      [cmd, 'a', '10', 'foo'], [cmd, 'a', '10', 'NX', 'foo'], [cmd, 'a', 'foo', 'NX', 'XX'], [cmd, 'a', 'foo'],
      [cmd, 'a', '1.5'], [cmd, 'a', ''], [cmd, 'a', ' 10'], [cmd, 'a', '010'], [cmd, 'a', '+10'],
      [cmd, 'a', '9223372036854775808'], [cmd, 'a', '-9223372036854775809'],
      [cmd, 'a', '9223372036854775'], [cmd, 'a', '9223372036854776'], [cmd, 'a', '-9223372036854776'],
      [cmd, 'a', '9223372036854775807'], [cmd, 'a', '9223370399119966'],
      [cmd, 'a'], [cmd], [cmd, 'nokey', 'foo'], [cmd, 'nokey', '9223372036854775807'],
      ['SET', 'a', '1'],
    );
  }
  cmds.push(['TTL'], ['TTL', 'a', 'b'], ['PTTL'], ['EXPIRETIME'], ['PEXPIRETIME', 'a', 'b'], ['PERSIST'], ['PERSIST', 'a', 'b']);
  await assertSame(cmds);
});

test('past expire times delete the key at once', { skip }, async () => {
  const cmds: string[][] = [['FLUSHALL']];
  for (const [cmd, t] of [['EXPIRE', '0'], ['EXPIRE', '-1'], ['PEXPIRE', '0'], ['PEXPIRE', '-100'], ['EXPIREAT', '1'],
    ['EXPIREAT', '0'], ['PEXPIREAT', '1'], ['PEXPIREAT', '-9223372036854775808'], ['EXPIRE', '-9223372036854775'],
    ['PEXPIREAT', '-9223372036854770000']]) {
    cmds.push(['SET', 'k', 'v'], [cmd!, 'k', t!], ['EXISTS', 'k'], ['TTL', 'k'], ['DBSIZE']);
  }
  cmds.push(['SET', 'k', 'v', 'EX', '100'], ['PEXPIREAT', 'k', '1', 'LT'], ['EXISTS', 'k']);
  await assertSame(cmds);
});

test('TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST (RESP2 and RESP3)', { skip }, async () => {
  const cmds = [
    ['FLUSHALL'],
    ['TTL', 'nokey'], ['PTTL', 'nokey'], ['EXPIRETIME', 'nokey'], ['PEXPIRETIME', 'nokey'], ['PERSIST', 'nokey'],
    ['SET', 'a', '1'], ['TTL', 'a'], ['PTTL', 'a'], ['EXPIRETIME', 'a'], ['PEXPIRETIME', 'a'], ['PERSIST', 'a'],
    ['EXPIREAT', 'a', FAR_S], ['EXPIRETIME', 'a'], ['PEXPIRETIME', 'a'],
    ['PEXPIREAT', 'a', FAR_MS], ['EXPIRETIME', 'a'], ['PEXPIRETIME', 'a'],
    ['PEXPIREAT', 'a', '4000000000499'], ['EXPIRETIME', 'a'], ['PEXPIREAT', 'a', '4000000000500'], ['EXPIRETIME', 'a'],
    ['PEXPIREAT', 'a', '9007199254740991'], ['PEXPIRETIME', 'a'], ['EXPIRETIME', 'a'],
    ['EXPIRE', 'a', '1000'], ['TTL', 'a'], ['PERSIST', 'a'], ['PERSIST', 'a'], ['TTL', 'a'],
    ['SET', 'b', '1', 'EX', '50'], ['TTL', 'b'], ['SET', 'b', '2'], ['TTL', 'b'],
    ['SET', 'd', '1', 'EX', '100'], ['SET', 'd', '2', 'KEEPTTL'], ['TTL', 'd'], ['GETEX', 'd', 'PERSIST'], ['TTL', 'd'],
  ];
  await assertSame(cmds);
  await assertSame(cmds, true);
});

test('lazily expired keys are invisible to every command', { skip }, async () => {
  await assertSame([
    ['FLUSHALL'], ['SET', 'x', '1', 'PX', '20'], ['SET', 'y', '1', 'PX', '20'], ['SET', 'keep', '1'],
    ['DEBUG', 'SLEEP', '0.05'],
    ['KEYS', '*'], ['EXISTS', 'x'], ['TYPE', 'x'], ['TTL', 'x'], ['GET', 'y'], ['RENAME', 'x', 'z'],
    ['MOVE', 'y', '1'], ['COPY', 'x', 'z'], ['EXPIRE', 'x', '100'], ['PERSIST', 'x'], ['OBJECT', 'ENCODING', 'x'],
    ['SCAN', '0'], ['RANDOMKEY'], ['DEL', 'x', 'y'], ['DBSIZE'],
  ]);
});
