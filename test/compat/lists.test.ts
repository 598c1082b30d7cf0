/**
 * List commands compared byte for byte with redis-server 7.0.15: every command with its errors
 * (arity, WRONGTYPE, parse errors in Redis's check order), edge cases of indexes and counts, long
 * lists (Amber's packed pages), RESP3 null shapes, OBJECT ENCODING across node sizes, keyspace
 * notifications, dirty counts, and what is propagated (Amber's effect stream against Redis's AOF).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startAmber, startRedis, RawClient } from '../helpers/servers.js';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair();
const { skip, reset, same } = pair;

const W = (s: string): string[] => s.split(' ');
const many = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => prefix + i);

test('LPUSH RPUSH LPUSHX RPUSHX LLEN: replies, arity, wrong type', { skip }, async () => {
  await reset();
  await same([
    W('LPUSH l a'), W('LPUSH l b c d'), W('RPUSH l e f'), W('LRANGE l 0 -1'), W('LLEN l'), W('LLEN nokey'),
    W('LPUSHX nokey a'), W('RPUSHX nokey a b'), W('EXISTS nokey'), W('LPUSHX l x y'), W('RPUSHX l z'), W('LRANGE l 0 -1'),
    W('SET s v'), W('LPUSH s a'), W('RPUSH s a'), W('LPUSHX s a'), W('RPUSHX s a'), W('LLEN s'),
    W('LPUSH l'), W('RPUSH'), W('LPUSHX l'), W('LLEN'), W('LLEN a b'),
    ['RPUSH', 'bin', 'a\x00b', '\r\n', '', '\xff\xfe', '12', '-0', '007'], W('LRANGE bin 0 -1'),
  ]);
  await same([W('LLEN l'), W('LLEN nokey'), W('LPUSHX nokey a')], true);
});

test('LPOP RPOP with and without count', { skip }, async () => {
  await reset();
  await same([
    W('RPUSH l a b c d e f g'), W('LPOP l'), W('RPOP l'), W('LPOP l 2'), W('RPOP l 2'), W('LPOP l 0'), W('RPOP l 0'),
    W('LPOP l -1'), W('LPOP l abc'), W('LPOP l 1.5'), W('LPOP l 9223372036854775808'), W('LPOP l 1 2'), W('LPOP'),
    W('LPOP l 100'), W('EXISTS l'), W('LPOP l'), W('LPOP l 2'), W('RPOP nokey 0'), W('RPOP nokey'), W('LPOP nokey -1'),
    W('RPUSH l x'), W('RPOP l 9223372036854775807'), W('EXISTS l'),
    W('SET s v'), W('LPOP s'), W('RPOP s 0'), W('LPOP s -1'), W('RPOP s abc'),
    W('RPUSH m 1 2 3'), W('RPOP m 5'),
  ]);
  await same([
    W('LPOP nokey'), W('LPOP nokey 2'), W('LPOP nokey 0'), W('RPUSH l a b'), W('LPOP l 0'), W('RPOP l 1'), W('LPOP l'), W('LPOP l'),
  ], true);
});

test('LINDEX LSET LRANGE LTRIM: indexes, huge ranges, errors in Redis order', { skip }, async () => {
  await reset();
  await same([
    W('RPUSH l a b c d e'), W('LINDEX l 0'), W('LINDEX l -1'), W('LINDEX l 4'), W('LINDEX l 5'), W('LINDEX l -5'), W('LINDEX l -6'),
    W('LINDEX l abc'), W('LINDEX nokey abc'), W('LINDEX l 9223372036854775807'), W('LINDEX l -9223372036854775808'),
    W('LINDEX l 99999999999999999999'),
    W('LSET l 0 A'), W('LSET l -1 E'), W('LSET l 5 x'), W('LSET l -6 x'), W('LSET l abc x'), W('LSET nokey abc x'), W('LSET nokey 0 x'),
    W('LRANGE l 0 -1'), W('LRANGE l 1 2'), W('LRANGE l -2 -1'), W('LRANGE l -100 100'), W('LRANGE l 3 1'), W('LRANGE l 5 10'),
    W('LRANGE l 0 1000000000000000000'), W('LRANGE l -9223372036854775808 9223372036854775807'), W('LRANGE l a 1'),
    W('LRANGE l 1 b'), W('LRANGE nokey a b'), W('LRANGE nokey 0 -1'), W('LRANGE l -1 -2'),
    W('LTRIM l 1 -2'), W('LRANGE l 0 -1'), W('LTRIM l a 1'), W('LTRIM nokey 0 1'), W('LTRIM nokey a 1'), W('LTRIM l 0 -1'),
    W('LTRIM l -100 100'), W('LRANGE l 0 -1'), W('LTRIM l 2 1'), W('EXISTS l'),
    W('RPUSH t 1 2 3'), W('LTRIM t 5 10'), W('EXISTS t'), W('RPUSH t 1 2 3'), W('LTRIM t -1 -1'), W('LRANGE t 0 -1'),
    W('RPUSH t2 1 2 3'), W('LTRIM t2 0 -9223372036854775808'), W('EXISTS t2'),
    W('SET s v'), W('LINDEX s 0'), W('LINDEX s abc'), W('LSET s 0 x'), W('LSET s abc x'), W('LRANGE s 0 1'), W('LRANGE s a 1'),
    W('LTRIM s 0 1'), W('LTRIM s a 1'), W('LINDEX l'), W('LSET l 0'), W('LRANGE l 0'), W('LTRIM l 0'),
  ]);
  await same([W('LINDEX nokey 0'), W('RPUSH l a'), W('LINDEX l 5'), W('LRANGE nokey 0 -1'), W('LRANGE l 3 4')], true);
});

test('LREM LINSERT', { skip }, async () => {
  await reset();
  await same([
    W('RPUSH l a b a c a d a'), W('LREM l 2 a'), W('LRANGE l 0 -1'), W('LREM l -1 a'), W('LRANGE l 0 -1'), W('LREM l 0 a'),
    W('LRANGE l 0 -1'), W('LREM l 0 zz'), W('LREM l abc a'), W('LREM nokey abc a'), W('LREM nokey 0 a'), W('LREM l 0 b'),
    W('LREM l 0 c'), W('LREM l 0 d'), W('EXISTS l'),
    W('RPUSH m a b c'), W('LINSERT m BEFORE b x'), W('LINSERT m after c y'), W('LINSERT m AfTeR a z'), W('LINSERT m before a w'),
    W('LRANGE m 0 -1'), W('LINSERT m before nope x'), W('LINSERT m middle a x'), W('LINSERT nokey middle a x'),
    W('LINSERT nokey before a x'), W('EXISTS nokey'), W('LINSERT m before'), W('RPUSH d a a a'), W('LINSERT d after a b'),
    W('LRANGE d 0 -1'),
    W('SET s v'), W('LREM s 0 a'), W('LREM s abc a'), W('LINSERT s before a b'), W('LINSERT s middle a b'),
  ]);
});

test('LPOS: RANK COUNT MAXLEN and their errors', { skip }, async () => {
  await reset();
  const cmds = [
    'RPUSH l a b c a d a e a', 'LPOS l a', 'LPOS l e', 'LPOS l zz', 'LPOS l a RANK 2', 'LPOS l a RANK -1', 'LPOS l a RANK -2',
    'LPOS l a RANK 5', 'LPOS l a RANK -5', 'LPOS l a COUNT 0', 'LPOS l a COUNT 2', 'LPOS l a COUNT 2 RANK 2', 'LPOS l a RANK -1 COUNT 3',
    'LPOS l a COUNT 0 MAXLEN 4', 'LPOS l a MAXLEN 1', 'LPOS l a MAXLEN 0', 'LPOS l a RANK -1 MAXLEN 1', 'LPOS l a RANK 3 COUNT 0',
    'LPOS l a RANK 5 COUNT 0', 'LPOS l a RANK 9 COUNT 5', 'LPOS l a COUNT 1 COUNT 0', 'LPOS l a RANK 1 RANK 2',
    'LPOS l a RANK 0', 'LPOS l a RANK -9223372036854775808', 'LPOS l a RANK -9223372036854775808 COUNT 1',
    'LPOS l a RANK -9223372036854775807 COUNT 0', 'LPOS l a RANK 9223372036854775807', 'LPOS l a RANK 1.5', 'LPOS l a RANK abc',
    'LPOS l a COUNT -1', 'LPOS l a COUNT abc', 'LPOS l a COUNT 9223372036854775808', 'LPOS l a MAXLEN -1', 'LPOS l a MAXLEN abc',
    'LPOS l a foo', 'LPOS l a RANK', 'LPOS l a COUNT', 'LPOS l a rank 1 foo 2', 'LPOS nokey a', 'LPOS nokey a COUNT 1',
    'LPOS nokey a RANK 0', 'SET s v', 'LPOS s a', 'LPOS s a RANK 0', 'LPOS s a COUNT -1', 'LPOS l', 'LPOS l a RANK\x001 1',
  ];
  await same(cmds.map(W));
  await same(['LPOS nokey a', 'LPOS l zz', 'LPOS l zz COUNT 0', 'LPOS nokey a COUNT 0'].map(W), true);
});

test('LMOVE RPOPLPUSH LMPOP', { skip }, async () => {
  await reset();
  await same([
    W('RPUSH a 1 2 3'), W('LMOVE a b LEFT RIGHT'), W('LMOVE a b right left'), W('LRANGE a 0 -1'), W('LRANGE b 0 -1'),
    W('LMOVE a a LEFT RIGHT'), W('LRANGE a 0 -1'), W('LMOVE a b up left'), W('LMOVE a b left up'), W('LMOVE nokey b up left'),
    W('LMOVE nokey b left left'), W('RPOPLPUSH a b'), W('EXISTS a'), W('RPOPLPUSH nokey b'), W('RPOPLPUSH b b'), W('LRANGE b 0 -1'),
    W('SET s v'), W('LMOVE s b left left'), W('LMOVE b s left left'), W('LMOVE nokey s left left'), W('RPOPLPUSH s b'),
    W('RPOPLPUSH b s'), W('LRANGE b 0 -1'), W('RPUSH one x'), W('RPOPLPUSH one one'), W('LRANGE one 0 -1'), W('LMOVE one one right left'),
    W('LMOVE a b LEFT'), W('RPOPLPUSH a'),
    W('RPUSH m 1 2 3 4 5'), W('LMPOP 1 m LEFT'), W('LMPOP 1 m RIGHT COUNT 2'), W('LMPOP 2 nokey m left count 10'), W('EXISTS m'),
    W('LMPOP 2 nokey m left'), W('LMPOP 0 m left'), W('LMPOP -1 m left'), W('LMPOP abc m left'), W('LMPOP 1 m middle'),
    W('LMPOP 2 m left'), W('LMPOP 1 m left count 0'), W('LMPOP 1 m left count -1'), W('LMPOP 1 m left count abc'),
    W('LMPOP 1 m left count 1 count 1'), W('LMPOP 1 m left foo'), W('LMPOP 1 m left count'), W('LMPOP 9223372036854775807 m left'),
    W('LMPOP 2 nokey s left'), W('LMPOP 2 s nokey left'), W('RPUSH n a'), W('LMPOP 2 n s left'), W('LMPOP 1'),
  ]);
  await same([W('LMPOP 1 nokey left'), W('RPUSH m a b'), W('LMPOP 1 m right count 5'), W('LMOVE nokey x left left')], true);
});

test('blocking commands that do not block, their parse errors, and timeouts', { skip }, async () => {
  await reset();
  await same([
    W('RPUSH a 1 2 3'), W('BLPOP nokey a 0'), W('BRPOP a nokey 0'), W('BLPOP a 0.5'), W('EXISTS a'),
    W('BLPOP a -1'), W('BLPOP a abc'), W('BLPOP a 1e400'), W('BLPOP a inf'), W('BLPOP a -inf'), W('BLPOP a nan'),
    W('BLPOP a -0.0015'), W('BLPOP a 9223372036854776'), W('BLPOP a 1e5000'), ['BLPOP', 'a', ' 1'], ['BLPOP', 'a', '1 '], W('BLPOP a'),
    W('SET s v'), W('BLPOP nokey s 0'), W('BRPOP s 0'), W('RPUSH b x'), W('BLPOP b s 0'),
    W('RPUSH c 1 2 3'), W('BLMOVE c d LEFT RIGHT 0'), W('BLMOVE c d up RIGHT 0'), W('BLMOVE c d LEFT up 0'), W('BLMOVE c d LEFT LEFT -1'),
    W('BLMOVE c d LEFT LEFT abc'), W('BLMOVE s d left left 0'), W('BLMOVE c s left left 0'), W('BRPOPLPUSH c d 0'),
    W('BRPOPLPUSH c d -1'), W('BRPOPLPUSH c d x'), W('BRPOPLPUSH s d 0'), W('BRPOPLPUSH c s 0'), W('LRANGE d 0 -1'),
    W('RPUSH e 1 2 3 4'), W('BLMPOP 0 2 nokey e LEFT'), W('BLMPOP 0 1 e RIGHT COUNT 5'), W('EXISTS e'), W('BLMPOP abc 0 e left'),
    W('BLMPOP 0 0 e left'), W('BLMPOP -1 1 e left'), W('BLMPOP 0 1 e middle'), W('BLMPOP abc 1 e left count 0'), W('BLMPOP 0 1 s left'),
    W('BLMPOP 0 1 e left count 1 count 2'), W('BLMPOP 0'),
    // these wait, then time out with the null array
    W('BLPOP nokey 0.05'), W('BRPOP nokey nokey2 0.05'), W('BLMOVE nokey d left left 0.05'), W('BRPOPLPUSH nokey s 0.05'),
    W('BLMPOP 0.05 1 nokey left'), W('BLPOP nokey 0x0.1p-2'),
  ]);
  await same([W('BLPOP nokey 0.05'), W('BLMOVE nokey d left left 0.05'), W('BLMPOP 0.05 1 nokey left COUNT 2')], true);
});

test('blocking commands inside MULTI act as if they timed out', { skip }, async () => {
  await reset();
  await same([
    W('MULTI'), W('BLPOP nokey 0'), W('BRPOP nokey 0'), W('BLMOVE nokey d left left 0'), W('BRPOPLPUSH nokey d 0'),
    W('BLMPOP 0 1 nokey left'), W('RPUSH k a b'), W('BLPOP k 0'), W('BLMOVE k d right left 0'), W('EXEC'),
  ]);
  await same([W('MULTI'), W('BLPOP nokey 0'), W('BLMOVE nokey d left left 0'), W('EXEC')], true);
});

test('long lists (packed pages): ranges, indexes, search, edits match Redis', { skip }, async () => {
  await reset();
  const big = many('v', 3000);
  const rnd = (n: number): number => Math.floor(Math.random() * n);
  const cmds: string[][] = [
    ['RPUSH', 'big', ...big.slice(0, 1500)], ['LPUSH', 'big', ...big.slice(1500)], W('LLEN big'),
    W('LRANGE big 0 -1'), W('LRANGE big 700 2100'), W('LRANGE big -900 -800'), W('LINDEX big 1234'), W('LINDEX big -1500'),
    W('LPOS big v77'), W('LPOS big v77 RANK -1'), W('LPOS big v2999 MAXLEN 100'), W('LPOS big v2999 COUNT 0'),
    W('LSET big 1600 changed'), W('LINSERT big BEFORE v1000 ins'), W('LINSERT big AFTER v2000 ins2'), W('LREM big 0 v5'),
    W('LRANGE big 1590 1610'), W('LPOP big 200'), W('RPOP big 300'), W('LTRIM big 100 -100'), W('LRANGE big 0 -1'),
  ];
  for (let i = 0; i < 30; i++) {
    const a = rnd(2400);
    cmds.push(['LRANGE', 'big', String(a), String(a + rnd(300))], ['LINDEX', 'big', String(rnd(2400) - 1200)]);
    cmds.push(['LSET', 'big', String(rnd(2000)), 'set' + i], ['LREM', 'big', String(rnd(5) - 2), 'v' + rnd(3000)]);
  }
  cmds.push(W('LRANGE big 0 -1'));
  // a long run of one value: LREM from both ends, then everything
  cmds.push(['RPUSH', 'rep', ...Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 'x' : 'y' + i))]);
  cmds.push(W('LREM rep 100 x'), W('LREM rep -100 x'), W('LRANGE rep 0 -1'), W('LREM rep 0 x'), W('LLEN rep'));
  await same(cmds);
  await same([W('LRANGE big 0 -1'), W('RPOP big 3')], true);
});

test('huge ranges and counts neither hang nor allocate', { skip }, async () => {
  await reset();
  await same([
    ['RPUSH', 'h', ...many('e', 2000)], W('LRANGE h 0 9223372036854775807'), W('LRANGE h -9223372036854775808 1'),
    W('LPOS h e1999 COUNT 0'), W('LPOS h nope COUNT 0 MAXLEN 9223372036854775807'), W('LPOP h 9223372036854775807'), W('EXISTS h'),
    ['RPUSH', 'h', ...many('e', 10)], W('LTRIM h -9223372036854775808 9223372036854775807'), W('LLEN h'),
  ]);
});

test('OBJECT ENCODING is quicklist at every size and setting; list directives', { skip }, async () => {
  await reset();
  const cmds: string[][] = [
    W('CONFIG GET list-max-listpack-size'), W('CONFIG GET list-max-ziplist-size'), W('CONFIG GET list-compress-depth'),
    W('RPUSH a x'), W('OBJECT ENCODING a'), ['RPUSH', 'b', ...many('x', 200)], W('OBJECT ENCODING b'),
    ['RPUSH', 'c', 'y'.repeat(10000)], W('OBJECT ENCODING c'),
  ];
  for (const fill of ['5', '-1', '-5', '1', '0', '-6', '32768']) {
    cmds.push(W(`CONFIG SET list-max-listpack-size ${fill}`), W('CONFIG GET list-max-listpack-size'), W('CONFIG GET list-max-ziplist-size'), ['RPUSH', 'f' + fill, ...many('z', 20)]);
    cmds.push(W(`OBJECT ENCODING f${fill}`), W(`LPOP f${fill} 19`), W(`OBJECT ENCODING f${fill}`));
  }
  cmds.push(W('CONFIG SET list-max-ziplist-size -2'), W('CONFIG GET list-max-listpack-size'), W('CONFIG SET list-max-listpack-size abc'));
  cmds.push(W('CONFIG SET list-compress-depth 2'), W('CONFIG GET list-compress-depth'), W('CONFIG SET list-compress-depth -1'));
  cmds.push(W('CONFIG SET list-compress-depth 0'), W('CONFIG SET list-max-listpack-size -2'));
  await same(cmds);
});

test('keyspace notifications of every list command', { skip }, async () => {
  await reset();
  const run = async (port: number, main: RawClient): Promise<string[]> => {
    await main.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    const sub = await RawClient.connect(port);
    await sub.call('PSUBSCRIBE', '__key*__:*');
    const cmds = [
      'RPUSH l a b c', 'LPUSH l z', 'LPUSHX l y', 'RPUSHX l w', 'LPOP l', 'RPOP l 2', 'LSET l 0 q', 'LINSERT l BEFORE q p',
      'LINSERT l BEFORE nope p', 'LREM l 0 p', 'LREM l 0 nope', 'LTRIM l 0 0', 'LTRIM l 0 -1', 'LPOP l', 'RPUSH a 1 2',
      'LMOVE a b LEFT RIGHT', 'RPOPLPUSH a b', 'LMPOP 1 b RIGHT COUNT 5', 'RPUSH c 1', 'BLPOP c 0', 'RPUSH d 1 2', 'BLMOVE d e LEFT LEFT 0',
      'BRPOPLPUSH d e 0', 'BLMPOP 0 1 e LEFT COUNT 1', 'RPUSH t 1 2', 'LTRIM t 5 6', 'RPUSH r 1', 'LREM r 0 1', 'RPUSH s 1', 'LPOP s 0',
      'LRANGE nokey 0 -1', 'LINDEX nokey 0', 'LPOS nokey a', 'LLEN nokey',
    ];
    await main.pipeline(cmds.map(W));
    await main.call('PING');
    // count the messages: a marker event ends the stream
    await main.call('RPUSH', 'zzend', 'x');
    const msgs: string[] = [];
    for (;;) {
      const [m] = await sub.read(1);
      msgs.push(m!);
      if (m!.includes('zzend') && m!.includes('__keyevent')) break;
    }
    sub.close();
    await main.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    return msgs;
  };
  const ma = await run(pair.amber.port, pair.ca);
  const mr = await run(pair.redis.port, pair.cr);
  assert.ok(mr.length > 60, `Redis sent ${mr.length} notifications`);
  assert.deepEqual(ma, mr);
});

test('dirty counts (rdb_changes_since_last_save) as Redis counts them', { skip }, async () => {
  await reset();
  const changes = async (c: RawClient): Promise<number> => {
    const info = await c.call('INFO', 'persistence');
    const m = /rdb_changes_since_last_save:(\d+)/.exec(info);
    return m ? Number(m[1]) : -1;
  };
  const cmds = [
    'RPUSH k a b c', 'LTRIM k 0 -1', 'LTRIM k 1 -1', 'LTRIM k 5 10', 'RPUSH k a b a c a', 'LREM k 0 a', 'LREM k 0 zz', 'RPUSH j 1 2 3',
    'LPOP j 5', 'RPUSH j 1', 'LMOVE j j left right', 'LSET j 0 x', 'LINSERT j before x y', 'LINSERT j before zz y', 'RPUSH m 1 2 3 4',
    'LMPOP 1 m left count 10', 'RPUSH n 1 2', 'BLPOP n 0', 'BLMPOP 0 1 n left count 3', 'RPUSH o 1', 'RPOPLPUSH o p', 'LPUSHX nokey a',
    'LPOP p 0',
  ];
  const da: number[] = [];
  const dr: number[] = [];
  for (const cmd of cmds) {
    const [a0, r0] = [await changes(pair.ca), await changes(pair.cr)];
    await Promise.all([pair.ca.call(...W(cmd)), pair.cr.call(...W(cmd))]);
    da.push((await changes(pair.ca)) - a0);
    dr.push((await changes(pair.cr)) - r0);
  }
  assert.deepEqual(da, dr);
});

test('propagated effects equal what Redis writes to its AOF', { skip }, async () => {
  const aofRedis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  const amb = await startAmber();
  const effects: string[][] = [];
  amb.server.effects.subscribe((_db, argv) => effects.push(argv));
  try {
    const script = async (port: number): Promise<void> => {
      const a = await RawClient.connect(port);
      const b = await RawClient.connect(port);
      const cmds = [
        'RPUSH l a b c d e', 'LPOP l', 'RPOP l 2', 'LPOP l 0', 'LSET l 0 x', 'LINSERT l AFTER x y', 'LREM l 0 y', 'LTRIM l 0 -1', 'LTRIM l 0 0',
        'RPUSH m 1 2 3', 'LMOVE m n LEFT RIGHT', 'RPOPLPUSH m n', 'LMPOP 2 nokey n RIGHT COUNT 1', 'BLPOP m 0', 'BRPOP n 0',
        'RPUSH q 1 2 3', 'BLMOVE q r right LEFT 0', 'BRPOPLPUSH q r 0', 'BLMPOP 0 1 q LEFT COUNT 9', 'BLMPOP 0 1 r RIGHT',
        'LPUSHX nokey a', 'LREM nokey 0 a',
      ];
      for (const c of cmds) await a.call(...W(c));
      // served blocked clients
      const pending: Array<Promise<string>> = [];
      for (const cmd of ['BLPOP w1 0', 'BRPOP w1 0', 'BLMOVE w2 w3 LEFT RIGHT 0', 'BRPOPLPUSH w4 w5 0', 'BLMPOP 0 2 x w6 RIGHT COUNT 2']) {
        const cl = await RawClient.connect(port);
        pending.push(cl.call(...W(cmd)).finally(() => cl.close()));
        await new Promise((r) => setTimeout(r, 30));
      }
      await b.call('RPUSH', 'w1', '1', '2', '3');
      await b.call('RPUSH', 'w2', 'a');
      await b.call('LPUSH', 'w4', 'b', 'c');
      await b.call('RPUSH', 'w6', '1', '2', '3');
      await Promise.all(pending);
      await b.call('PING');
      a.close();
      b.close();
    };
    await script(aofRedis.port);
    await script(amb.port);
    await new Promise((r) => setTimeout(r, 100));
    const dir = join(aofRedis.dir, 'appendonlydir');
    const incr = readdirSync(dir).find((f) => f.endsWith('.incr.aof'))!;
    const redisCmds = parseResp(readFileSync(join(dir, incr), 'latin1')).filter((a) => a[0]!.toUpperCase() !== 'SELECT');
    assert.ok(redisCmds.length > 25, `Redis propagated ${redisCmds.length} commands`);
    assert.deepEqual(effects.map((a) => a.join(' ')), redisCmds.map((a) => a.join(' ')));
  } finally {
    await amb.close();
    await aofRedis.close();
  }
});

/** The commands of an AOF file (RESP multibulk requests). */
function parseResp(s: string): string[][] {
  const out: string[][] = [];
  let pos = 0;
  while (pos < s.length) {
    const nl = s.indexOf('\r\n', pos);
    const n = Number(s.slice(pos + 1, nl));
    pos = nl + 2;
    const argv: string[] = [];
    for (let i = 0; i < n; i++) {
      const nl2 = s.indexOf('\r\n', pos);
      const len = Number(s.slice(pos + 1, nl2));
      argv.push(s.slice(nl2 + 2, nl2 + 2 + len));
      pos = nl2 + 4 + len;
    }
    out.push(argv);
  }
  return out;
}
