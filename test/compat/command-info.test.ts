/**
 * COMMAND introspection compared with redis-server 7.0.15. COMMAND INFO and COMMAND DOCS of every
 * command Amber implements (read from the live command table, so commands added later are covered)
 * must equal Redis's byte for byte in RESP2 and RESP3. Deviation: a container (CONFIG, CLIENT...)
 * lists only the subcommands Amber implements, and Redis orders subcommands by its hash table, so
 * a container is compared as its own fields plus each implemented subcommand's entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, sameReplies, replyEnd } from '../helpers/servers.js';
import { compatPair } from '../helpers/compat.js';
import { buildCommandTable, type CommandSpec } from '../../src/commands/spec.js';
import { getKeysReply } from '../../src/commands/introspection.js';
import { ReplyWriter } from '../../src/protocol/reply.js';
import { readFileSync } from 'node:fs';

const pair = compatPair({ clients: 'none' });
const { skip } = pair;

async function both(cmds: string[][], hello3 = false): Promise<void> {
  const [a, r] = await sameReplies(pair.amber.port, pair.redis.port, cmds, hello3);
  assert.deepEqual(a, r);
}

/** Sends the commands pipelined on one connection (RESP2 or RESP3) and returns the raw replies. */
async function pipeline(port: number, cmds: string[][], hello3: boolean): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    if (hello3) await c.call('HELLO', '3');
    return await c.pipeline(cmds);
  } finally {
    c.close();
  }
}

/** The elements of an aggregate reply (array/set/map header stripped), as raw replies. */
function elements(raw: string): string[] {
  const buf = Buffer.from(raw, 'latin1');
  let p = buf.indexOf('\r\n') + 2;
  const out: string[] = [];
  while (p < buf.length) {
    const e = replyEnd(buf, p);
    out.push(buf.latin1Slice(p, e));
    p = e;
  }
  return out;
}

/** Commands Amber adds to Redis's table (documented extensions): not compared with Redis. */
const EXTENSIONS = new Set(['backup']);

function implemented(): CommandSpec[] {
  return [...pair.amber.server.commands.values()].filter((s) => !EXTENSIONS.has(s.name));
}

for (const hello3 of [false, true]) {
  const proto = hello3 ? 'RESP3' : 'RESP2';

  test(`COMMAND INFO of every implemented command equals Redis (${proto})`, { skip }, async () => {
    const specs = implemented();
    assert.ok(specs.length > 0);
    const plain = specs.filter((s) => s.subcommands === null);
    const cmds = plain.map((s) => ['COMMAND', 'INFO', s.fullName]);
    const [a, r] = [await pipeline(pair.amber.port, cmds, hello3), await pipeline(pair.redis.port, cmds, hello3)];
    for (let i = 0; i < cmds.length; i++) assert.equal(a[i], r[i], `COMMAND INFO ${plain[i]!.fullName}`);

    // containers: the entry's own fields, then each implemented subcommand on its own
    const containers = specs.filter((s) => s.subcommands !== null);
    for (const s of containers) {
      const [ea, er] = [
        elements((await pipeline(pair.amber.port, [['COMMAND', 'INFO', s.fullName]], hello3))[0]!),
        elements((await pipeline(pair.redis.port, [['COMMAND', 'INFO', s.fullName]], hello3))[0]!),
      ];
      const [fa, fr] = [elements(ea[0]!), elements(er[0]!)];
      assert.deepEqual(fa.slice(0, 9), fr.slice(0, 9), `COMMAND INFO ${s.fullName}: fields`);
      const subsA = elements(fa[9]!);
      const subsR = new Set(elements(fr[9]!));
      assert.equal(subsA.length, s.subcommands!.size);
      for (const sub of subsA) assert.ok(subsR.has(sub), `COMMAND INFO ${s.fullName}: subcommand entry ${sub.slice(0, 60)}`);
      const subCmds = [...s.subcommands!.values()].map((x) => ['COMMAND', 'INFO', x.fullName]);
      const [sa, sr] = [await pipeline(pair.amber.port, subCmds, hello3), await pipeline(pair.redis.port, subCmds, hello3)];
      assert.deepEqual(sa, sr, `COMMAND INFO of ${s.fullName}'s subcommands`);
    }
  });

  test(`COMMAND DOCS of every implemented command equals Redis (${proto})`, { skip }, async () => {
    const specs = implemented();
    const names = specs.flatMap((s) => (s.subcommands ? [...s.subcommands.values()].map((x) => x.fullName) : [s.fullName]));
    const cmds = names.map((n) => ['COMMAND', 'DOCS', n]);
    const [a, r] = [await pipeline(pair.amber.port, cmds, hello3), await pipeline(pair.redis.port, cmds, hello3)];
    for (let i = 0; i < cmds.length; i++) assert.equal(a[i], r[i], `COMMAND DOCS ${names[i]}`);
    // a container's docs: same fields; its subcommands map holds only implemented ones
    for (const s of specs.filter((x) => x.subcommands !== null)) {
      const [da, dr] = [
        elements(elements((await pipeline(pair.amber.port, [['COMMAND', 'DOCS', s.fullName]], hello3))[0]!)[1]!),
        elements(elements((await pipeline(pair.redis.port, [['COMMAND', 'DOCS', s.fullName]], hello3))[0]!)[1]!),
      ];
      const ia = da.indexOf('$11\r\nsubcommands\r\n');
      const ir = dr.indexOf('$11\r\nsubcommands\r\n');
      assert.deepEqual(da.slice(0, ia), dr.slice(0, ir), `COMMAND DOCS ${s.fullName}`);
      const subsR = elements(dr[ir + 1]!);
      const subsA = elements(da[ia + 1]!);
      for (let i = 0; i < subsA.length; i += 2) {
        const j = subsR.indexOf(subsA[i]!);
        assert.ok(j >= 0 && subsR[j + 1] === subsA[i + 1], `COMMAND DOCS ${s.fullName}: ${subsA[i]}`);
      }
    }
  });
}

test('COMMAND INFO / DOCS with unknown, sub and odd names; COMMAND HELP; errors', { skip }, async () => {
  const cmds = [
    ['COMMAND', 'INFO', 'nonexistent'],
    ['COMMAND', 'INFO', 'get', 'nonexistent', 'GET', 'config|GET', 'CONFIG|get|x', 'get|x', 'config|nosuch', ''],
    ['COMMAND', 'DOCS', 'nonexistent'],
    ['COMMAND', 'DOCS', 'GET', 'nonexistent', 'Config|Get'],
    ['COMMAND', 'HELP'],
    ['COMMAND', 'help', 'x'],
    ['COMMAND', 'COUNT', 'x'],
    ['COMMAND', 'FOO'],
    ['COMMAND', 'LIST', 'FILTERBY', 'foo', 'bar'],
    ['COMMAND', 'LIST', 'FILTERBY'],
    ['COMMAND', 'LIST', 'foo'],
    ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'foo'],
    ['COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'nonexistent'],
    ['COMMAND', 'LIST', 'FILTERBY', 'pattern', 'nomatch*'],
  ];
  await both(cmds);
  await both(cmds, true);
});

test('COMMAND COUNT, COMMAND and COMMAND INFO without names list every implemented command', { skip }, async () => {
  const c = await RawClient.connect(pair.amber.port);
  try {
    const n = pair.amber.server.commands.size;
    assert.equal(await c.call('COMMAND', 'COUNT'), `:${n}\r\n`);
    const all = await c.call('COMMAND');
    assert.ok(all.startsWith(`*${n}\r\n`));
    assert.equal(await c.call('COMMAND', 'INFO'), all);
    const docs = await c.call('COMMAND', 'DOCS');
    assert.ok(docs.startsWith(`*${2 * n}\r\n`));
  } finally {
    c.close();
  }
});

test('COMMAND LIST with and without filters equals Redis restricted to implemented commands', { skip }, async () => {
  const names = new Set(implemented().flatMap((s) => [s.fullName, ...(s.subcommands ? [...s.subcommands.values()].map((x) => x.fullName) : [])]));
  const filters = [[], ['FILTERBY', 'ACLCAT', 'read'], ['FILTERBY', 'aclcat', 'KEYSPACE'], ['FILTERBY', 'PATTERN', 'c*'], ['filterby', 'pattern', '*|*'], ['FILTERBY', 'PATTERN', 'CONFIG*']];
  for (const f of filters) {
    const [a, r] = await Promise.all([pipeline(pair.amber.port, [['COMMAND', 'LIST', ...f]], false), pipeline(pair.redis.port, [['COMMAND', 'LIST', ...f]], false)]);
    const la = elements(a[0]!).filter((x) => !EXTENSIONS.has(x.split('\r\n')[1]!)).sort();
    const lr = elements(r[0]!).filter((x) => names.has(x.split('\r\n')[1]!)).sort();
    assert.deepEqual(la, lr, `COMMAND LIST ${f.join(' ')}`);
  }
});

test('COMMAND GETKEYS and GETKEYSANDFLAGS equal Redis', { skip }, async () => {
  const lines: string[][] = [
    ['set', 'a', 'b'], ['set', 'a', 'b', 'GET'], ['set', 'a', 'b', 'EX', '10'], ['get', 'a'], ['get'], ['get', 'a', 'b'], ['mset', 'a', '1', 'b', '2'],
    ['mset', 'a', '1', 'b'], ['mget', 'a', 'b', 'c'], ['del', 'a', 'b', 'c'], ['rename', 'a', 'b'], ['copy', 'a', 'b'], ['ping'], ['ping', 'x', 'y'],
    ['nonexist', 'a'], ['config', 'get', 'x'], ['config', 'foo', 'x'], ['config', 'get'],
    ['bitfield', 'k', 'get', 'u8', '0'], ['bitfield', 'k', 'set', 'u8', '0', '1'], ['bitfield', 'k', 'incrby', 'u8', '0'], ['bitfield', 'k', 'overflow', 'sat', 'get', 'u8', '0'],
    ['bitfield_ro', 'k', 'get', 'u8', '0'], ['bitop', 'and', 'd', 'a', 'b'], ['bitcount', 'k'],
    ['zunionstore', 'd', '2', 'a', 'b'], ['zunionstore', 'd', '5', 'a', 'b'], ['zunionstore', 'd', 'x', 'a'], ['zunion', '2', 'a', 'b'], ['zinterstore', 'd', '-1', 'a'],
    ['zintercard', '2', 'a', 'b'], ['zdiff', '1', 'a', 'WITHSCORES'],
    ['eval', 'x', '0'], ['eval', 'x', '1', 'k'], ['eval', 'x', '3', 'k'], ['evalsha', 'x', '2', 'a', 'b', 'c'], ['fcall', 'f', '1', 'k'],
    ['xread', 'streams', 'a', 'b', '0', '0'], ['xread', 'count', '2', 'streams', 'a', 'b', '0'], ['xread', 'streams', 'a', '0'],
    ['xreadgroup', 'group', 'g', 'c', 'streams', 'a', '>'], ['xadd', 's', '*', 'f', 'v'], ['xgroup', 'create', 's', 'g', '$'],
    ['migrate', 'h', 'p', 'k', '0', '5'], ['migrate', 'h', 'p', '', '0', '5', 'keys', 'a', 'b'], ['migrate', 'h', 'p', '', '0', '5', 'copy', 'auth', 'pw', 'keys', 'a'],
    ['migrate', 'h', 'p', 'k', '0', '5', 'keys', 'a'],
    ['sort', 'k'], ['sort', 'k', 'store', 'd'], ['sort', 'k', 'by', 'w', 'get', 'x', 'store', 'd'], ['sort_ro', 'k'],
    ['georadius', 'k', '1', '2', '3', 'm', 'store', 'x', 'storedist', 'y'], ['georadius', 'k', '1', '2', '3', 'm'],
    ['georadiusbymember', 'k', 'm', '3', 'km', 'STORE', 'x'], ['geosearchstore', 'd', 's', 'frommember', 'm', 'byradius', '1', 'm'],
    ['lmove', 'a', 'b', 'left', 'right'], ['blpop', 'a', 'b', '0'], ['brpoplpush', 'a', 'b', '0'], ['lmpop', '2', 'a', 'b', 'left'],
    ['blmpop', '0', '2', 'a', 'b', 'left'], ['zmpop', '1', 'a', 'min'], ['bzmpop', '0', '1', 'a', 'min'], ['sintercard', '2', 'a', 'b'],
    ['sinterstore', 'd', 'a', 'b'], ['smove', 'a', 'b', 'm'], ['object', 'encoding', 'k'], ['memory', 'usage', 'k'], ['lcs', 'a', 'b'],
    ['pfmerge', 'd', 'a', 'b'], ['pfcount', 'a', 'b'], ['hset', 'h', 'f', 'v'], ['publish', 'c', 'm'], ['spublish', 'c', 'm'], ['subscribe', 'c'],
    ['watch', 'a', 'b'], ['exists', 'a'], ['expire', 'k', '10'], ['touch', 'a', 'b'], ['unlink', 'a'], ['getex', 'k', 'persist'],
    ['restore', 'k', '0', 'x'], ['dump', 'k'], ['type', 'k'], ['renamenx', 'a', 'b'], ['move', 'k', '1'], ['incrbyfloat', 'k', '1'],
  ];
  // Only lines whose command Amber implements (COMMAND GETKEYS of an unimplemented command is
  // "Invalid command specified" in Amber).
  const known = lines.filter((l) => {
    const s = pair.amber.server.commands.get(l[0]!.toLowerCase());
    if (!s) return l[0] === 'nonexist';
    return s.subcommands === null || l.length < 2 || s.subcommands.has(l[1]!.toLowerCase()) || l[1] === 'foo';
  });
  assert.ok(known.length > 10);
  const cmds = known.flatMap((l) => [['COMMAND', 'GETKEYS', ...l], ['COMMAND', 'GETKEYSANDFLAGS', ...l]]);
  await both(cmds);
  await both(cmds.slice(0, 30), true);
});

test('key extraction from the key specs of every Redis command (implemented or not) equals Redis', { skip }, async () => {
  // The whole Redis table with stub handlers: GETKEYS depends only on the metadata.
  const raw = JSON.parse(readFileSync(new URL('../../src/commands/redis-commands.json', import.meta.url), 'utf8')) as Record<string, { info: unknown[] }>;
  const handlers: Record<string, () => void> = {};
  for (const [name, meta] of Object.entries(raw)) {
    const subs = meta.info[9];
    if (Array.isArray(subs) && subs.length) for (const s of subs as unknown[][]) handlers[s[0] as string] = () => undefined;
    else handlers[name] = () => undefined;
  }
  const table = buildCommandTable(handlers);
  const lines: string[][] = [
    ['set', 'a', 'b'], ['set', 'a', 'b', 'get'], ['set', 'a', 'b', 'xget'], ['get', 'a'], ['mset', 'a', '1', 'b'], ['mset', 'a', '1', 'b', '2'],
    ['bitfield', 'k', 'get', 'u8', '0'], ['bitfield', 'k', 'set', 'u8', '0', '1'], ['bitfield', 'k', 'get', 'u8'], ['bitfield', 'k', 'overflow', 'wrap'],
    ['bitfield', 'k'], ['migrate', 'h', 'p', 'k', '0', '5'], ['migrate', 'h', 'p', '', '0', '5', 'keys', 'a', 'b'],
    ['migrate', 'h', 'p', '', '0', '5', 'copy', 'auth2', 'u', 'p', 'keys', 'a'], ['migrate', 'h', 'p', 'k', '0', '5', 'keys', 'a'],
    ['migrate', 'h', 'p', '', '0', '5', 'auth', 'keys', 'x', 'keys', 'a'],
    ['zunionstore', 'd', '2', 'a', 'b'], ['zunionstore', 'd', '5', 'a', 'b'], ['zunionstore', 'd', '0'], ['zinter', '1', 'a', 'weights', '1'],
    ['eval', 'x', '0'], ['eval', 'x', '1', 'k'], ['eval', 'x', '3', 'k'], ['eval', 'x', '-1'], ['evalsha_ro', 'x', '2', 'a', 'b'], ['fcall_ro', 'f', '1', 'k', 'a'],
    ['xread', 'streams', 'a', 'b', '0', '0'], ['xread', 'count', '2', 'streams', 'a', 'b', '0'], ['xread', 'streams', 'a', '0', 'x'], ['xread', 'count', '1', 'x', 'y'],
    ['xreadgroup', 'group', 'g', 'c', 'count', '1', 'streams', 'a', 'b', '>', '>'], ['xgroup', 'create', 's', 'g', '$'], ['xinfo', 'stream', 's'],
    ['sort', 'k', 'by', 'w', 'get', 'x', 'store', 'd'], ['sort', 'k', 'store'], ['sort_ro', 'k', 'get', '#'],
    ['georadius', 'k', '1', '2', '3', 'm', 'store', 'x', 'storedist', 'y'], ['georadiusbymember', 'k', 'm', '3', 'km', 'STOREDIST', 'x'],
    ['geosearchstore', 'd', 's', 'frommember', 'm', 'byradius', '1', 'm'], ['lmpop', '2', 'a', 'b', 'left'], ['lmpop', '3', 'a', 'b'],
    ['blmpop', '0', '2', 'a', 'b', 'left'], ['zmpop', '1', 'a', 'min'], ['bzmpop', '0', '1', 'a', 'min'], ['sintercard', '2', 'a', 'b', 'limit', '1'],
    ['memory', 'usage', 'k'], ['object', 'freq', 'k'], ['lcs', 'a', 'b'], ['spublish', 'c', 'm'], ['ssubscribe', 'a', 'b'], ['pfdebug', 'getreg', 'k'],
    ['client', 'list'], ['config', 'get', 'x'], ['debug', 'object', 'k'], ['command', 'info'], ['blpop', 'a', 'b', '0'], ['lmove', 'a', 'b', 'left', 'left'],
    ['restore-asking', 'k', '0', 'x'], ['msetnx', 'a', '1'], ['rpoplpush', 'a', 'b'], ['bitop', 'not', 'd', 's'], ['zrangestore', 'd', 's', '0', '1'],
    ['getdel', 'k'], ['delex', 'a'], ['zunionstore', 'd', '02', 'a', 'b'], ['eval', 'x', '1x', 'k'], ['georadius', 'k', '1', '2', '3', 'm', 'store'],
    ['sort', 'k', 'limit', '0', '1', 'store', 'd'], ['sort', 'k', 'store', 'd', 'store', 'e'], ['xread', 'streams', 'a', 'streams'], ['xread', 'block', '0', 'streams', 'a', 'b', '1'], ['function', 'load', 'x'], ['script', 'flush'],
  ];
  const cmds = lines.flatMap((l) => [['COMMAND', 'GETKEYS', ...l], ['COMMAND', 'GETKEYSANDFLAGS', ...l]]);
  const expected = await pipeline(pair.redis.port, cmds, false);
  for (let i = 0; i < cmds.length; i++) {
    const w = new ReplyWriter();
    getKeysReply(table, cmds[i]!.slice(2), cmds[i]![1] === 'GETKEYSANDFLAGS', w);
    assert.equal(w.out, expected[i], cmds[i]!.join(' '));
  }
});
