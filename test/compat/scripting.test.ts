/**
 * Lua scripting against redis-server 7.0.15, byte for byte: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and
 * SCRIPT (LOAD, EXISTS, FLUSH, KILL, HELP). Every sequence runs on a fresh connection to each
 * server (RESP2, and RESP3 after HELLO 3 where the conversions differ) and the raw replies must be
 * the same. Covered: KEYS/ARGV and numkeys; Lua values -> replies and replies -> Lua values (with
 * redis.setresp(3) too); compile, runtime and redis.call errors and how each is reported; the
 * sandbox (globals, read-only tables); the redis.* helpers; math.random's sequence; the script
 * cache; read-only scripts and shebang flags (OOM included); scripts in MULTI/EXEC and under WATCH;
 * SELECT inside a script; INFO commandstats/errorstats/memory; keyspace events and MONITOR; real
 * scripts (rate limiter, lock release, a BullMQ-like job queue) and ioredis's defineCommand.
 *
 * Not compared here: a script running past busy-reply-threshold (BUSY replies, SCRIPT KILL of a
 * running script, UNKILLABLE), which busy-scripts.test.ts compares; commands Amber does not have
 * (SYNC, PSYNC), which Redis refuses in scripts; a script returning a table that contains itself (Redis writes
 * nested arrays down to "reached lua stack limit", deeper than RawClient parses); error() with a
 * table without an `err` field (crashes redis-server 7.0.15). The libraries' own details (cjson,
 * cmsgpack, struct, bit) are in lua-libs.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { compatPair, assertSameReplies, collectNotifications, monitorUntilLast } from '../helpers/compat.js';
import { startAmber, startRedis, sameReplies, callsOn, RawClient } from '../helpers/servers.js';

const pair = compatPair({ clients: 'none' });
const { skip } = pair;

/** ['EVAL', body, ...rest], numkeys 0 when `rest` is empty. */
const ev = (body: string, ...rest: string[]): string[] => ['EVAL', body, ...(rest.length ? rest : ['0'])];

/**
 * Runs `cmds` on a fresh connection to each server (after HELLO 3 with `hello3`), asserts the same
 * replies command by command; resolves to Redis's replies (for the checks that pin them down).
 */
async function both(cmds: string[][], hello3 = false): Promise<string[]> {
  const [ra, rr] = await sameReplies(pair.amber.port, pair.redis.port, cmds, hello3);
  assertSameReplies(cmds, ra, rr, hello3 ? 'RESP3 ' : '');
  return rr;
}

/** {@link both} over RESP2, then over RESP3. */
async function bothProtocols(cmds: string[][]): Promise<[string[], string[]]> {
  return [await both(cmds), await both(cmds, true)];
}

/** Runs steps of [connection index, argv] on two fresh connections per server; the same replies. */
async function steps(list: Array<[number, string[]]>): Promise<string[]> {
  const run = async (port: number): Promise<string[]> => {
    const conns = [await RawClient.connect(port), await RawClient.connect(port)];
    try {
      const out: string[] = [];
      for (const [i, argv] of list) out.push(await conns[i]!.call(...argv));
      return out;
    } finally {
      for (const c of conns) c.close();
    }
  };
  const a = await run(pair.amber.port);
  const r = await run(pair.redis.port);
  assertSameReplies(list.map(([i, argv]) => [String(i), ...argv]), a, r);
  return r;
}

/** The reply to the first command of `cmds` equal to `cmd` (for the checks that pin Redis's replies down). */
function replyTo(cmds: string[][], replies: string[], cmd: string[]): string {
  const i = cmds.findIndex((c) => c.length === cmd.length && c.every((a, j) => a === cmd[j]));
  assert.ok(i >= 0, `${JSON.stringify(cmd)} is not in the sequence`);
  return replies[i]!;
}

/** The sha1 hex of `s` (latin1 bytes), as SCRIPT LOAD answers it. */
function sha1(s: string): string {
  return createHash('sha1').update(Buffer.from(s, 'latin1')).digest('hex');
}

/** INFO `section` of a fresh connection to `port` as a map of fields. */
async function info(port: number, section: string): Promise<Map<string, string>> {
  const c = await RawClient.connect(port);
  try {
    const text = await c.call('INFO', section);
    const m = new Map<string, string>();
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#') && !line.startsWith('$')) m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m;
  } finally {
    c.close();
  }
}

test('EVAL: KEYS and ARGV (binary-safe), numkeys errors, arity', { skip }, async () => {
  const cmds = [
    ['FLUSHALL'], ['SCRIPT', 'FLUSH'],
    ev('return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}', '2', 'a', 'b', 'c', 'd'),
    ev('return {#KEYS,#ARGV}', '0', 'a', 'b'),
    ev('return {#KEYS,#ARGV}', '3', 'a', 'b', 'c'),
    ev('return {ARGV[1], #ARGV[1], KEYS[1]}', '1', 'k\x00\xff', '\x00\r\n\xff'),
    ev("return 'a\\0b'"),
    ev("return redis.call('echo', ARGV[1])", '0', 'bin\x00\xff\r\n'),
    ev('return 1', '-1'), ev('return 1', '-12'), ev('return 1', '3', 'a'), ev("return redis.call('get', KEYS[1])", '1'),
    ev('return 1', 'x'), ev('return 1', '1.5'), ev('return 1', '99999999999999999999'), ev('return 1', ''),
    ['EVAL', 'return 1'], ['EVAL'], ['eval', 'return 1', '0'],
    // KEYS and ARGV are fresh tables each time: a script may write into them
    ev("KEYS[1] = 'changed'; return KEYS[1]", '1', 'k'), ev("ARGV[5] = 'x'; return #ARGV"), ev('return KEYS[1]', '1', 'k'),
    // many arguments to redis.call through unpack
    ev("local t = {} for i=1,7999 do t[i] = i end return redis.call('rpush', 'biglist', unpack(t))"),
    ev("local t = {} for i=1,8000 do t[i] = i end return redis.call('rpush', 'biglist', unpack(t))"),
    ev("return #redis.call('lrange', 'biglist', 0, -1)"),
  ];
  const rr = await both(cmds);
  assert.equal(replyTo(cmds, rr, ev('return 1', '-1')), "-ERR Number of keys can't be negative\r\n");
  assert.equal(replyTo(cmds, rr, ev('return 1', '3', 'a')), "-ERR Number of keys can't be greater than number of args\r\n");
});

test('EVAL: Lua values converted to replies (RESP2 and RESP3)', { skip }, async () => {
  const cmds = [
    ev("return 'hello'"), ev('return 100.5'), ev('return -100.9'), ev('return -0.5'), ev('return 3.99'), ev('return 2^53'),
    ev("return '3.99'"), ev('return tostring(3.99)'), ev('return 9007199254740993'), ev('return 123456789012345678'),
    ev('return true'), ev('return false'), ev('return nil'), ev('return'), ev('return 1, 2'),
    ev("return {1,2,3,'ciao',{1,2}}"), ev('return {1,2,nil,4}'), ev('return {1,false,3}'), ev('return {1,true,3}'),
    ev('return {a=1,b=2}'), ev('return {1,2,a=3}'), ev('return {1,{2,{3,{4}}},{}}'), ev('return {}'),
    ev("return {ok='fine'}"), ev("return {err='this is an error'}"), ev("return {err='MYCODE custom'}"),
    ev("return {err='-MYCODE custom'}"), ev('return {ok=1}'), ev('return {err=1}'), ev("return {ok='a',err='b'}"),
    ev("return {1, {err='INNER x'}, {ok='fine'}, 2}"),
    ev("return redis.status_reply('OKAY')"), ev("return redis.error_reply('My Error')"), ev("return redis.error_reply('-My Error')"),
    ev("return redis.error_reply('MYERR x')"), ev("return redis.error_reply('')"), ev("return {1, redis.error_reply('E y'), redis.status_reply('S')}"),
    ev('return redis.error_reply()'), ev('return redis.error_reply(1)'), ev('return redis.status_reply()'), ev('return redis.status_reply(12)'),
    ev("return redis.status_reply('a','b')"), ev("return type(redis.error_reply('x'))"), ev("local t = redis.error_reply('x'); return t.err"),
    ev("local t = redis.error_reply('MY x'); return t.err"), ev("local t = redis.status_reply('x'); return t.ok"),
    // the RESP3 types a script can build: RESP2 callers get their RESP2 form
    ev('return {double=3.14}'), ev('return {double=1}'), ev('return {double=0.1}'), ev('return {double=1e300}'), ev('return {double=1/0}'),
    ev('return {double=-1/0}'), ev("return {double='x'}"),
    ev('return {map={a=1}}'), ev('return {map={}}'), ev('return {map={k={1,2}}}'), ev('return {map={k=false}}'),
    ev('return {set={a=true}}'), ev('return {set={}}'), ev('return {set={a=false}}'),
    ev("return {big_number='123'}"), ev("return {verbatim_string={format='txt',string='hi'}}"),
    ev("return {verbatim_string={format='markdown',string='x'}}"), ev("return {verbatim_string={string='x'}}"),
    ev("return {verbatim_string={format='txt'}}"),
    // Lua booleans after redis.setresp(3): RESP3 booleans for a RESP3 caller, integers for RESP2
    ev('redis.setresp(3); return true'), ev('redis.setresp(3); return false'), ev('redis.setresp(3); return {true,false,nil}'),
    ev('redis.setresp(3); return {1,false,2}'), ev('redis.setresp(2); return false'),
    ev('return 1 --trailing comment'),
  ];
  const [r2, r3] = await bothProtocols(cmds);
  // pinned: Lua false is a null bulk, a RESP3 null for a RESP3 caller; setresp(3) makes it #f / :0
  assert.equal(r2[11], '$-1\r\n');
  assert.equal(r3[11], '_\r\n');
  assert.equal(r3[cmds.length - 5], '#f\r\n');
  assert.equal(r2[cmds.length - 5], ':0\r\n');
});

test('EVAL: numbers beyond int64 and NaN, as the x86-64 build of Redis converts them', { skip }, async () => {
  // (long long) of an out-of-range double is INT64_MIN on x86-64; NaN prints as -nan there
  await bothProtocols([
    ev('return 1e20'), ev('return -1e20'), ev('return 0/0'), ev('return 1/0'), ev('return -1/0'), ev('return 2^63'), ev('return -2^63'),
    ev('return tostring(0/0)'), ev('return tostring(1/0)'), ev('return tostring(-1/0)'), ev('return {double=0/0}'),
    ev("redis.call('set','f',0/0); return redis.call('get','f')"),
  ]);
});

test('redis.call: every reply type converted to Lua and back (RESP2 protocol in Lua)', { skip }, async () => {
  await bothProtocols([
    ['FLUSHALL'], ['SET', 'str', 'val'], ['RPUSH', 'list', 'a', 'b', 'c'], ['HSET', 'h', 'f', 'v', 'g', 'w'], ['SADD', 's', 'x'],
    ['ZADD', 'z', '1.5', 'm'], ['SET', 'n', '10'],
    ev("local r = redis.call('set',KEYS[1],'x'); return {type(r), r['ok']}", '1', 'k'),
    ev("return redis.call('set',KEYS[1],'x')", '1', 'k'), ev("return redis.call('ping')"), ev("return redis.call('type','str')"),
    ev("local t = redis.call('type', 'str'); return t.ok"),
    ev("local r = redis.call('incr','n'); return {type(r), r}"),
    ev("local r = redis.call('get','str'); return {type(r), r}"),
    ev("local r = redis.call('get','nokey'); return {type(r), r == false}"), ev("return redis.call('get','nokey')"),
    ev("local r = redis.call('lrange','list',0,-1); return {type(r), #r, r[1], r[3]}"), ev("return redis.call('lrange','list',0,-1)"),
    ev("local r = redis.pcall('incr','str'); return {type(r), r['err']}"), ev("return redis.pcall('incr','str')"),
    ev("return redis.call('lpop','nolist',2)"), ev("local r = redis.call('lpop','nolist',2); return {type(r), tostring(r)}"),
    ev("return redis.call('hgetall','h')"), ev("return redis.call('zscore','z','m')"), ev("return redis.call('zrange','z',0,-1,'withscores')"),
    ev("return redis.call('smembers','s')"), ev("return redis.call('info','keyspace')"),
    ev("return redis.call('ECHO', 'x')"), ev("return redis.call('EcHo', 'x')"), ev("return redis.call('spop', 'noset')"),
    ev("return {redis.call('exists', 'str'), redis.call('type', 'str')}"), ev("return redis.call('object', 'encoding', 'n')"),
    ev("return redis.call('xread','STREAMS','nostream','0')"), ev("return redis.call('publish', 'ch', 'm')"),
    ev("return type(redis.call('time')[1])"),
    // Lua numbers as command arguments: %.17g
    ev("redis.call('set','k',3.99); return redis.call('get','k')"), ev("redis.call('set','k',100); return redis.call('get','k')"),
    ev("redis.call('set','k',1e15); return redis.call('get','k')"), ev("redis.call('set','k',12345678901234567890); return redis.call('get','k')"),
    ev("redis.call('set','k',-0.0); return redis.call('get','k')"), ev("redis.call('set','k',1/0); return redis.call('get','k')"),
    ev("redis.call('set','k',0.1); return redis.call('get','k')"), ev('local value = 9007199254740991; redis.call("set","k",value); return redis.call("get","k")'),
    ev("redis.call('set', 'k', '12039611435714932082'); return redis.call('get', 'k')"),
    ev("return redis.call('incrby', 'n', 5.7)"), ev("return redis.call('incrby', 'n', '5')"),
    // SORT's output is not re-ordered for scripts in 7.0
    ['SADD', 'myset', '1', '2', '3', '4', '10'], ev("return redis.call('sort',KEYS[1],'desc')", '1', 'myset'),
  ]);
});

test('redis.setresp(3): maps, sets, doubles and nulls converted to Lua and back, for RESP2 and RESP3 callers', { skip }, async () => {
  await bothProtocols([
    ['FLUSHALL'], ['SET', 'str', 'val'], ['HSET', 'h', 'f', 'v', 'g', 'w'], ['SADD', 's', 'x'], ['ZADD', 'z', '1.5', 'm'],
    ev("redis.setresp(3); return redis.call('hgetall','h')"),
    ev("redis.setresp(3); local r = redis.call('hgetall','h'); return {type(r), type(r.map), r.map.f, r.map.g}"),
    ev("redis.setresp(3); return redis.call('smembers','s')"),
    ev("redis.setresp(3); local r = redis.call('smembers','s'); return {type(r.set), tostring(r.set.x)}"),
    ev("redis.setresp(3); return redis.call('zscore','z','m')"),
    ev("redis.setresp(3); local r = redis.call('zscore','z','m'); return {type(r), type(r.double), tostring(r.double)}"),
    ev("redis.setresp(3); return redis.call('get','nokey')"),
    ev("redis.setresp(3); local r = redis.call('get','nokey'); return {type(r), tostring(r)}"),
    ev("redis.setresp(3); return redis.call('lpop','nolist',2)"),
    ev("redis.setresp(3); return redis.call('zrange','z',0,-1,'withscores')"),
    ev("redis.setresp(3); return redis.call('set','k','v')"), ev("redis.setresp(3); return redis.pcall('incr','str')"),
    ev("redis.setresp(3); return redis.call('info','keyspace')"),
    ev("redis.setresp(3); local r = redis.call('info','keyspace'); return {type(r), type(r.verbatim_string), r.verbatim_string.format, r.verbatim_string.string}"),
    ev("redis.setresp(2); return redis.call('hgetall','h')"),
    ev("redis.setresp(3); redis.setresp(2); return redis.call('hgetall','h')"),
    ev("redis.setresp('3'); return redis.call('zscore','z','m')"),
    // the protocol is per script: the next script is RESP2 again
    ev("return redis.call('hgetall','h')"),
  ]);
});

test('redis.setresp(3): booleans, big numbers, verbatim strings, attributes (DEBUG PROTOCOL with deny-scripts disabled)', { skip }, async () => {
  const cmds: string[][] = [['DEBUG', 'SET-DISABLE-DENY-SCRIPTS', '1']];
  for (const resp of ['2', '3']) {
    for (const type of ['true', 'false', 'bignum', 'verbatim', 'double', 'null', 'map', 'set', 'attrib', 'push', 'integer', 'string', 'array']) {
      cmds.push(ev(`redis.setresp(${resp}); return redis.call('debug','protocol','${type}')`));
    }
  }
  cmds.push(
    ev("redis.setresp(3); local r = redis.call('debug','protocol','true'); return {type(r), tostring(r)}"),
    ev("redis.setresp(3); local r = redis.call('debug','protocol','false'); return {type(r), tostring(r)}"),
    ev("redis.setresp(3); local r = redis.call('debug','protocol','bignum'); return {type(r), r.big_number}"),
    ev("redis.setresp(3); local r = redis.call('debug','protocol','verbatim'); return {r.verbatim_string.format, r.verbatim_string.string}"),
    ev("redis.setresp(3); local r = redis.call('debug','protocol','map'); local n = 0 for k, v in pairs(r.map) do n = n + 1 end return n"),
    ['DEBUG', 'SET-DISABLE-DENY-SCRIPTS', '0'],
    ev("return redis.call('debug','protocol','true')"),
  );
  try {
    await bothProtocols(cmds);
  } finally {
    // restored on both, whatever they answer (not compared: the test's own failure is the one to see)
    for (const port of [pair.amber.port, pair.redis.port]) await callsOn(port, [['DEBUG', 'SET-DISABLE-DENY-SCRIPTS', '0']]);
  }
});

test('script errors: compile errors, runtime errors, error() with strings, tables and other values, line numbers', { skip }, async () => {
  const [rr] = await bothProtocols([
    ['FLUSHALL'], ['SET', 'str', 'val'],
    ev("return 'unterminated"), ev('this is not lua'), ev('return 1 +'), ev('#lua\nreturn 1'), ev(' #!lua\nreturn 1'),
    ev("error('boom')"), ev("error('boom', 0)"), ev("error({err='MYERR table error'})"), ev("error({err='-MYERR table error'})"),
    ev("error({err=''})"), ev("error({err='nospace'})"), ev("error(redis.error_reply('MY custom'))"), ev("error(redis.error_reply('custom msg'))"),
    ev('error(42)'), ev('error()'), ev('error(nil)'), ev('error(true)'), ev("error('')"), ev("error('',0)"),
    ev("error('-WRONGTYPE custom', 0)"), ev("error('MYCODE custom', 0)"),
    ev("local function f() error('deep') end local function g() f() end g()"),
    ev('local a = 1\nlocal b = 2\nerror(\'line3\')'), ev("local function f()\n  error('inner')\nend\n\nf()"),
    ev("local function f()\n  error({err='E inner'})\nend\n\nf()"), ev('local t = {}\nlocal x = t.a.b'),
    ev('local t = nil; return t.x'), ev('return 1 + {}'), ev('return #nil'), ev("return string.rep('x', -1) .. nil"),
    ev('return tostring(nil) .. {}'), ev("return math.random(0)"), ev('return math.random(1,2,3)'), ev('return math.random(10,1)'),
    ev("local t = {} for i=1,100000 do t[i] = i end return unpack(t)"),
    // an error raised in a chunk compiled by loadstring names that chunk
    ev("return loadstring('x = 5; return x')()"), ev("local f, e = loadstring('bad syntax here'); return {tostring(f), e}"),
    ev("return select('#', loadstring('bad syntax here'))"), ev("return loadstring('return 1 + 1')()"),
    // Redis does not roll back: the write before the error stays
    ev("redis.call('set','written','1')\nerror('after write')"), ['GET', 'written'],
  ]);
  assert.equal(rr[2], "-ERR Error compiling script (new function): user_script:1: unfinished string near '<eof>'\r\n");
  assert.equal(rr[7], '-ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1.\r\n');
});

test('redis.call and redis.pcall errors: wrong type, unknown command, arity, bad arguments, pcall of an error table', { skip }, async () => {
  const [rr] = await bothProtocols([
    ['FLUSHALL'], ['SET', 'str', 'val'],
    ev("return redis.call('lpush','str','x')"), ev("return redis.pcall('lpush','str','x')"),
    ev("return redis.call('nosuchcommand')"), ev("return redis.pcall('nosuchcommand')"),
    ev("return redis.call('get','a','b','c')"), ev("return redis.pcall('get','a','b','c')"), ev("return redis.call('ping', 'x', 'y')"),
    ev('return redis.call()'), ev('return redis.pcall()'), ev('return redis.call({})'), ev("return redis.call('get',{})"),
    ev("return redis.call('get',nil)"), ev("redis.call('set','k',true)"), ev("return redis.pcall('set','k',true)"),
    ev("return redis.call('incr','str')"), ev("redis.call('incr','str')"), ev("local e = redis.pcall('incr','str'); return e"),
    ev("local a = 1\nredis.call('incr','str')\nreturn 1"), ev("local function f()\n  redis.call('incr','str')\nend\n\nf()"),
    ev("return redis.call('select','99')"), ev("return redis.pcall('select','99')"),
    // Redis's pcall turns an error table into its message
    ev("local ok, e = pcall(redis.call, 'incr', 'str'); return {tostring(ok), type(e), e}"),
    ev("local ok, e = pcall(redis.call, 'nosuch'); return e"), ev("local ok, e = pcall(redis.call, 'lpush', 'str', 'x'); return e"),
    ev("local ok, e = pcall(error, {err='X y'}); return {type(e), e}"), ev("local ok, e = pcall(error, {x=1}); return {tostring(ok), type(e)}"),
    ev("return pcall(redis.call, 'incr', 'str')"), ev("local ok, e = pcall(function() error('x') end); return {tostring(ok), type(e), e}"),
    ev("local ok, e = pcall(function() local t = nil; return t.x end); return {tostring(ok), e}"),
    ev("local ok, e = pcall(redis.call, 'lpush', 'str', 'x'); error(e)"), ev("local ok, e = pcall(redis.call, 'lpush', 'str', 'x'); error(e, 0)"),
    ev("local ok, a, b = pcall(function() return 1, 2 end); return {tostring(ok), a, b}"),
    ev("return {xpcall(function() error('x') end, function(m) return 'handled: ' .. m end)}"),
  ]);
  assert.equal(rr[4], '-ERR Unknown Redis command called from script script: 60e6252e19199d82f2bea24345497fd1b735ed32, on @user_script:1.\r\n');
  assert.equal(rr[5], '-ERR Unknown Redis command called from script\r\n');
});

test('commands refused inside scripts; blocking commands are refused (BLMPOP and BZMPOP run, without blocking)', { skip }, async () => {
  const refused = [
    ['multi'], ['exec'], ['discard'], ['watch', 'k'], ['unwatch'], ['subscribe', 'ch'], ['psubscribe', 'x'], ['ssubscribe', 'x'],
    ['unsubscribe'], ['eval', 'return 1', '0'], ['evalsha', 'a'.repeat(40), '0'], ['eval_ro', 'return 1', '0'], ['script', 'load', 'return 1'],
    ['script', 'flush'], ['blpop', 'nolist', '0'], ['brpop', 'nolist', '1'], ['brpoplpush', 'l', 'm', '0'],
    ['blmove', 'l', 'm', 'LEFT', 'LEFT', '0'], ['blmpop', '0', '1', 'l', 'LEFT'], ['bzpopmin', 'z', '0'], ['bzpopmax', 'z', '0'],
    ['bzmpop', '0', '1', 'z', 'MIN'], ['wait', '0', '0'], ['client', 'list'], ['save'], ['bgsave'], ['config', 'get', 'maxmemory'],
    ['debug', 'protocol', 'map'], ['debug', 'sleep', '0'], ['hello', '3'], ['auth', 'x'], ['monitor'], ['reset'], ['shutdown'],
    ['shutdown', 'nosave'], ['quit'], ['replicaof', 'no', 'one'], ['latency', 'latest'],
    ['module', 'list'], ['role'], ['client', 'id'], ['config', 'set', 'a', 'b'], ['bgrewriteaof'], ['failover'],
  ];
  // allowed, though some look odd in a script
  const allowed = [
    ['blmpop', '0', '1', 'nolist', 'LEFT'], ['bzmpop', '0', '1', 'nozset', 'MIN'], ['blmpop', '0', '1', 'l', 'LEFT'], ['bzmpop', '0', '1', 'z', 'MAX'],
    ['cluster', 'info'], ['readonly'], ['asking'], ['spublish', 'a', 'b'], ['pubsub', 'channels'], ['object', 'freq', 'nokey'],
    ['dump', 'nokey'], ['restore', 'k', '0', 'x'], ['migrate', 'h', '1', 'nokey', '0', '1'], ['memory', 'usage', 'nokey'],
    ['sort', 'nokey'], ['pfcount', 'nokey'], ['swapdb', '0', '0'], ['select', '0'],
  ];
  const cmds: string[][] = [['FLUSHALL'], ['RPUSH', 'l', 'a'], ['ZADD', 'z', '1', 'a'], ['XADD', 's', '1-1', 'f', 'v'], ['XGROUP', 'CREATE', 's', 'g', '0']];
  for (const argv of refused) {
    const args = argv.map((a) => `'${a}'`).join(',');
    cmds.push(ev(`return redis.call(${args})`), ev(`return redis.pcall(${args})`));
  }
  for (const argv of allowed) cmds.push(ev(`return redis.pcall(${argv.map((a) => `'${a}'`).join(',')})`));
  cmds.push(
    ev("return redis.call('xread','BLOCK','0','STREAMS','s','$')"), ev("return redis.pcall('xread','BLOCK','0','STREAMS','s','$')"),
    ev("return redis.call('xread','COUNT','1','STREAMS','s','0')"),
    ev("return redis.call('xreadgroup','GROUP','g','c','BLOCK','0','STREAMS','s','>')"),
    ev("return redis.call('xreadgroup','GROUP','g','c','COUNT','1','STREAMS','s','>')"),
    ['LRANGE', 'l', '0', '-1'], ['ZCARD', 'z'],
  );
  const [rr] = await bothProtocols(cmds);
  assert.equal(rr[5], '-ERR This Redis command is not allowed from script script: c329a1a294be6bf95b44144f7502610661ae925a, on @user_script:1.\r\n');
});

test('the sandbox: globals, absent functions, undeclared globals, read-only tables', { skip }, async () => {
  const sorted = (t: string): string => `local t = {} for k in pairs(${t}) do t[#t+1] = k end table.sort(t) return t`;
  const cmds = [
    ev(sorted('_G')), ev(sorted('redis')), ev(sorted('string')), ev(sorted('math')), ev(sorted('table')), ev(sorted('coroutine')),
    ev(sorted('cjson')), ev(sorted('cmsgpack')), ev(sorted('bit')), ev(sorted('struct')),
    ev('return {type(redis), type(redis.call), type(redis.pcall), type(redis.sha1hex), type(redis.log), type(redis.setresp), type(redis.set_repl), type(redis.replicate_commands), type(redis.breakpoint), type(redis.debug), type(redis.error_reply), type(redis.status_reply), type(redis.acl_check_cmd)}'),
    ev('return {type(cjson), type(cmsgpack), type(bit), type(struct), type(string), type(math), type(table), type(coroutine), type(_G)}'),
    ev('return {type(unpack), type(loadstring), type(load), type(pcall), type(xpcall), type(tostring), type(tonumber), type(setmetatable), type(getmetatable), type(rawget), type(rawset), type(rawequal), type(select), type(next), type(ipairs), type(pairs), type(assert), type(error), type(gcinfo), type(collectgarbage), type(type)}'),
    ev('return {type(math.random), type(math.randomseed), type(math.floor), type(string.format), type(table.concat), type(table.getn), type(string.gfind)}'),
    ev('return type(print)'), ev('return type(dofile)'), ev('return type(loadfile)'), ev('return type(require)'), ev('return type(module)'),
    ev('return type(os)'), ev('return type(io)'), ev('return type(debug)'), ev('return type(package)'), ev('return type(newproxy)'),
    ev('return type(getfenv)'), ev('return type(setfenv)'), ev('return _VERSION'),
    ev('return a'), ev('a = 10'), ev('local function f() return undefined_var end return f()'), ev('\n\nreturn a'), ev('\n\nb = 1'),
    ev('redis.call = nil'), ev('redis.x = 1'), ev('string.x = 1'), ev('string.format = nil'), ev('math.random = function() return 4 end'),
    ev('_G.x = 1'), ev("_G['x'] = nil"), ev('redis = nil'), ev('KEYS = {}'), ev("rawset(_G, 'x', 1)"), ev('setmetatable(_G, nil)'),
    ev('return type(getmetatable(_G))'), ev('cjson.encode = nil'), ev('cjson.x = 1'), ev('bit.x = 1'), ev('table.x = 1'),
    ev("return type(getmetatable(''))"), ev("return rawget(_G, 'nonexistent')"), ev("return rawget(_G, 'redis') == redis"),
    ev('local t = {}; t.x = 1; return t.x'), ev("local s = 'abc'; return s:upper()"), ev('local t = setmetatable({}, {__index = function() return 7 end}); return t.x'),
    // a global created by one script does not leak into the next (nor can it be created)
    ev("return rawget(_G, 'x')"),
  ];
  const [rr] = await bothProtocols(cmds);
  assert.match(rr[0]!, /^\*35\r\n/);
  assert.equal(replyTo(cmds, rr, ev('return a')), "-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.\r\n");
});

test('redis.* helpers: sha1hex, log, setresp, set_repl, replicate_commands, breakpoint, debug, acl_check_cmd, version and constants', { skip }, async () => {
  const [rr] = await bothProtocols([
    ev('return redis.REDIS_VERSION'), ev('return redis.REDIS_VERSION_NUM'),
    ev('return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING, redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}'),
    ev("return redis.sha1hex('')"), ev("return redis.sha1hex('Pizza & Mandolino')"), ev('return redis.sha1hex(123)'), ev('return redis.sha1hex(1.5)'),
    ev('return redis.sha1hex()'), ev("return redis.sha1hex('a','b')"), ev('return redis.sha1hex({})'), ev("return redis.sha1hex('\\0\\255')"),
    ev("return redis.log(redis.LOG_WARNING, 'hello from script')"), ev('return redis.log(redis.LOG_WARNING)'), ev('return redis.log()'),
    ev("return redis.log(99, 'x')"), ev("return redis.log(-1, 'x')"), ev("return redis.log('x', 'y')"), ev("return redis.log(redis.LOG_NOTICE, 'a', 1, 2.5)"),
    ev('return redis.log(redis.LOG_NOTICE, {})'), ev("return redis.log('2', 'numeric string level')"),
    ev('return redis.setresp()'), ev('return redis.setresp(1)'), ev('return redis.setresp(4)'), ev("return redis.setresp('3')"),
    ev("return redis.setresp('x')"), ev('return redis.setresp(2,3)'), ev('return redis.setresp(3)'),
    ev('return redis.set_repl()'), ev('return redis.set_repl(12345)'), ev('return redis.set_repl(redis.REPL_ALL)'), ev("return redis.set_repl('x')"),
    ev('return redis.set_repl(redis.REPL_AOF, 1)'), ev('return redis.set_repl(-1)'),
    ev('return redis.replicate_commands()'), ev("redis.call('set','rc','1'); return redis.replicate_commands()"),
    ev('return redis.breakpoint()'), ev("return redis.debug('x')"), ev('return redis.debug()'),
    ev("return redis.acl_check_cmd('get','x')"), ev("return redis.acl_check_cmd('set','x','y')"), ev("return redis.acl_check_cmd('nosuch')"),
    ev('return redis.acl_check_cmd()'), ev('return redis.acl_check_cmd({})'),
  ]);
  assert.equal(rr[0], '$6\r\n7.0.15\r\n');
  assert.equal(rr[1], ':458767\r\n');
  assert.equal(rr[27], '-ERR redis.set_repl() requires two arguments. script: 9504533b41060c143a92eb2f8878e77d33b6dc33, on @user_script:1.\r\n');
});

test("math.random: the same sequence from a server's start, across scripts; math.randomseed moves it for the scripts after", { skip }, async () => {
  const draw = ev('return {tostring(math.random()), math.random(100), math.random(5,10)}');
  // the pair's servers draw first: a fresh server's sequence must not depend on another server's
  await both([draw, draw]);
  const a = await startAmber();
  const r = await startRedis();
  try {
    const cmds = [
      draw, draw, ev('local t = {} for i=1,10 do t[i] = math.random(1000000) end return t'),
      ['SCRIPT', 'FLUSH'], draw,
      ev('math.randomseed(10); return {tostring(math.random()), math.random(1000)}'),
      ev('math.randomseed(10); return {tostring(math.random()), math.random(1000)}'),
      draw, ev("math.randomseed(ARGV[1]); return tostring(math.random())", '0', '20'), draw,
      ev('math.randomseed(7); return tostring(math.random())'), ev("return tostring(math.random(2^31))"),
    ];
    const [ra, rr] = await sameReplies(a.port, r.port, cmds);
    assertSameReplies(cmds, ra, rr);
    assert.equal(rr[0], '*3\r\n$16\r\n0.39646477363839\r\n:85\r\n:7\r\n');
    assert.notEqual(rr[0], rr[1]);
    assert.equal(rr[5], rr[6]);
  } finally {
    await a.close();
    await r.close();
  }
});

test('cjson, cmsgpack, struct and bit are there and answer as in Redis (smoke test; details in lua-libs.test.ts)', { skip }, async () => {
  await bothProtocols([
    ev("return cjson.encode({1,2,3,'x',true,false})"), ev('return cjson.encode({a=1})'),
    ev("return cjson.encode({name='job', attempts=3, data={x=1.5}})"),
    ev('return cjson.encode(cjson.decode(ARGV[1]))', '0', '{"a":[1,2,{"b":null}],"c":"str\\u00e9","d":1e3,"e":0.1}'),
    ev('local t = cjson.decode(ARGV[1]); return {t.a, t.b[2], tostring(t.c), type(t.n), tostring(t.n == cjson.null)}', '0', '{"a":"x","b":[10,20],"c":true,"n":null}'),
    ev("return cjson.decode('{bad')"), ev('return cjson.encode({[1]=1,[20]=3})'),
    ev('return table.concat(cjson.decode("[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]"), " ")'),
    ev("local p = cmsgpack.pack({1,2,'a'}); return {#p, cmsgpack.unpack(p)[3]}"),
    ev("local p = cmsgpack.pack({a=1}); local h = '' for i=1,#p do h = h .. string.format('%02x', p:byte(i)) end return h"),
    ev("return {cmsgpack.unpack(cmsgpack.pack(1,'two',3.5))}"),
    ev("local e = cmsgpack.pack(0.1); local h = '' for i=1,#e do h = h .. string.format('%02x', e:byte(i)) end return h"),
    ev("return struct.pack('>I2', 258)"), ev("return {struct.unpack('>I2', '\\1\\2')}"),
    ev('return {bit.band(0xff, 0x0f), bit.bor(1,2), bit.bxor(3,1), bit.lshift(1,4), bit.tohex(255), bit.tobit(2^32+1)}'),
  ]);
});

test('EVALSHA and the script cache: NOSCRIPT, sha case, SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP, EVAL caching', { skip }, async () => {
  const body = "return redis.call('get',KEYS[1])";
  const sha = sha1(body);
  assert.equal(sha, 'fd758d1589d044dd850a6f05d52f2eefd27f033f');
  const cmds = [
    ['SCRIPT', 'FLUSH'], ['SET', 'mykey', 'myval'],
    ['EVALSHA', sha, '1', 'mykey'],
    ev(body, '1', 'mykey'), ['EVALSHA', sha, '1', 'mykey'], ['EVALSHA', sha.toUpperCase(), '1', 'mykey'], ['evalsha', sha, '1', 'mykey'],
    ['EVALSHA', 'NotValidShaSUM', '0'], ['EVALSHA', 'ffd632c7d33e571e9f24556ebed26c3479a87130', '0'], ['EVALSHA', sha, '-1'],
    ['EVALSHA', sha, '2', 'mykey'], ['EVALSHA', 'ffd632c7d33e571e9f24556ebed26c3479a87130', '-1'],
    ['EVALSHA', 'ffd632c7d33e571e9f24556ebed26c3479a87130', 'x'], ['EVALSHA', sha + '0', '0'], ['EVALSHA', sha.slice(0, 39), '0'],
    ['EVALSHA', '', '0'], ['EVALSHA', 'x'], ['EVALSHA'],
    ['SCRIPT', 'EXISTS', sha, sha.toUpperCase(), 'ffd632c7d33e571e9f24556ebed26c3479a87130', 'x'], ['SCRIPT', 'EXISTS'],
    ['SCRIPT', 'LOAD', "return 'loaded'"], ['EVALSHA', 'b534286061d4b9e4026607613b95c06c06015ae8', '0'], ['SCRIPT', 'LOAD', "return 'loaded'"],
    ['SCRIPT', 'LOAD', "return 'unterminated"], ['SCRIPT', 'LOAD'], ['SCRIPT', 'LOAD', 'a', 'b'], ['SCRIPT', 'LOAD', ''], ['EVALSHA', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', '0'],
    ['SCRIPT', 'LOAD', '#!lua flags=no-writes\nreturn 1'], ['SCRIPT', 'LOAD', '#!lua flags=bogus\nreturn 1'], ['SCRIPT', 'LOAD', '#!js\nreturn 1'],
    ['script', 'load', 'return 1'], ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db'],
    ['SCRIPT', 'FLUSH', 'ASYNC'], ['SCRIPT', 'EXISTS', 'b534286061d4b9e4026607613b95c06c06015ae8', sha],
    ['EVALSHA', sha, '1', 'mykey'],
    ['SCRIPT', 'FLUSH', 'SYNC'], ['SCRIPT', 'FLUSH', 'sync'], ['SCRIPT', 'FLUSH', 'async'], ['SCRIPT', 'FLUSH', 'bogus'], ['SCRIPT', 'FLUSH', 'ASYNC', 'SYNC'],
    ['SCRIPT', 'KILL'], ['SCRIPT', 'KILL', 'x'], ['SCRIPT', 'HELP'], ['SCRIPT', 'help'], ['SCRIPT', 'help', 'x'], ['SCRIPT', 'BOGUS'], ['SCRIPT'],
    // EVAL of a body caches it (even when the script then fails); a body that does not compile is not cached
    ev('return 1+1'), ['SCRIPT', 'EXISTS', 'a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bd9', 'a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bda'],
    ev("error('x')"), ['SCRIPT', 'EXISTS', sha1("error('x')")],
    ev("return 'unterminated"), ['SCRIPT', 'EXISTS', sha1("return 'unterminated")],
    ev('return 7', '-1'), ['SCRIPT', 'EXISTS', sha1('return 7')],
    ['EVAL_RO', 'return 8', '0'], ['EVALSHA', sha1('return 8'), '0'],
    ev('#!lua flags=bogus\nreturn 9'), ['SCRIPT', 'EXISTS', sha1('#!lua flags=bogus\nreturn 9')],
  ];
  const [rr] = await bothProtocols(cmds);
  assert.equal(rr[2], '-NOSCRIPT No matching script. Please use EVAL.\r\n');
  assert.equal(replyTo(cmds, rr, ['SCRIPT', 'KILL']), '-NOTBUSY No scripts in execution right now.\r\n');
});

test('EVAL_RO and EVALSHA_RO: reads run, writes are refused', { skip }, async () => {
  const get = "return redis.call('get', KEYS[1])";
  const del = "return redis.call('del', KEYS[1])";
  const [rr] = await bothProtocols([
    ['FLUSHALL'], ['SCRIPT', 'FLUSH'], ['SET', 'foo', 'bar'],
    ['EVAL_RO', get, '1', 'foo'], ['EVAL_RO', del, '1', 'foo'], ['EVAL_RO', "return redis.pcall('del', KEYS[1])", '1', 'foo'],
    ['EVAL_RO', "redis.call('set','x','y')", '0'], ['EVAL_RO', "return redis.pcall('incr','n')", '0'],
    ['EVAL_RO', "return {redis.call('exists','foo'), redis.call('ttl','foo'), redis.call('strlen','foo')}", '0'],
    ['EVAL_RO', "return redis.call('publish','ch','m')", '0'], ['EVAL_RO', "return redis.call('ping')", '0'],
    ['EVAL_RO', "return redis.call('select','2')", '0'],
    ['EVAL_RO', 'return 1', '-1'], ['EVAL_RO', get], ['eval_ro', get, '1', 'foo'],
    ['SCRIPT', 'LOAD', get], ['EVALSHA_RO', sha1(get), '1', 'foo'], ['SCRIPT', 'LOAD', del], ['EVALSHA_RO', sha1(del), '1', 'foo'],
    ['EVALSHA_RO', 'ffd632c7d33e571e9f24556ebed26c3479a87130', '0'], ['EVALSHA_RO', sha1(get)], ['evalsha_ro', sha1(get), '1', 'foo'],
    ['GET', 'foo'], ['EXISTS', 'x', 'n'],
  ]);
  assert.equal(rr[4], '-ERR Write commands are not allowed from read-only scripts. script: 98b2b88b1aa43ae891c8e2859ad7d9cd48c1c784, on @user_script:1.\r\n');
});

test('shebang: #!lua with and without flags, unknown flags, options and engines, no-writes, EVAL_RO of a write script', { skip }, async () => {
  const cmds = [
    ['FLUSHALL'], ['SET', 'foo', 'bar'],
    ev("#!lua flags=no-writes\nreturn redis.call('get','foo')"), ev("#!lua flags=no-writes\nreturn redis.call('set','foo','x')"),
    ev("#!lua flags=no-writes\nreturn redis.pcall('set','foo','x')"), ev("#!lua flags=no-writes\nredis.call('incr','foo')"),
    ev("#!lua\nreturn redis.call('set','foo','x')"), ev("#!lua\nreturn redis.call('get',KEYS[1])", '1', 'foo'), ev("#!lua\nreturn redis.call('get','foo')"),
    ev('#!lua flags=\nreturn 1'), ev('#!lua flags=bogus\nreturn 1'), ev('#!lua flags=no-writes,bogus\nreturn 1'),
    ev('#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1'),
    ev("#!lua flags=allow-oom\nreturn redis.call('set','foo','y')"), ev('#!lua flags=no-cluster\nreturn 1'),
    ev("#!lua flags=allow-cross-slot-keys\nreturn redis.call('mset','a','1','b','2')"), ev('#!lua flags=allow-stale\nreturn 1'),
    ev('#!lua name=foo\nreturn 1'), ev('#!lua bogus=1\nreturn 1'), ev('#!lua  flags=no-writes\nreturn 1'),
    ev('#!lua flags=no-writes flags=allow-oom\nreturn 1'), ev('#!lua flags=NO-WRITES\nreturn 1'),
    ev('#!js\nreturn 1'), ev('#!\nreturn 1'), ev('#!LUA\nreturn 1'), ev('#!lua'), ev('#!lua flags=no-writes'), ev('#!lua \nreturn 2'),
    // line numbers count the shebang line
    ev("#!lua\nerror('x')"), ev('#!lua\nreturn a'), ev("#!lua\nreturn 'unterminated"),
    ['EVAL_RO', "#!lua\nreturn redis.call('set','foo','z')", '0'], ['EVAL_RO', "#!lua flags=no-writes\nreturn redis.call('get','foo')", '0'],
    ['EVAL_RO', '#!lua flags=bogus\nreturn 1', '0'],
    ['SCRIPT', 'LOAD', "#!lua\nreturn redis.call('set','foo','w')"], ['EVALSHA_RO', sha1("#!lua\nreturn redis.call('set','foo','w')"), '0'],
    ['GET', 'foo'],
  ];
  const [rr] = await bothProtocols(cmds);
  assert.equal(rr[3], '-ERR Write commands are not allowed from read-only scripts. script: bb1cc29989571f20389d8336e980ece0676b7d90, on @user_script:2.\r\n');
  assert.equal(replyTo(cmds, rr, ['EVAL_RO', "#!lua\nreturn redis.call('set','foo','z')", '0']), '-ERR Can not execute a script with write flag using *_ro command.\r\n');
});

test('over maxmemory: writes inside scripts get OOM; shebang scripts without no-writes/allow-oom are refused whole', { skip }, async () => {
  try {
    await bothProtocols([
      ['FLUSHALL'], ['SET', 'foo', 'bar'], ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'], ['CONFIG', 'SET', 'maxmemory', '1'],
      ev("return redis.call('get','foo')"), ev("return redis.call('set','foo','x')"), ev("return redis.pcall('set','foo','x')"),
      ev("redis.pcall('set','foo','x'); return redis.call('get','foo')"),
      ev("#!lua\nreturn redis.call('get','foo')"), ev('#!lua\nreturn 1'), ev("#!lua flags=no-writes\nreturn redis.call('get','foo')"),
      ev("#!lua flags=allow-oom\nreturn redis.call('set','foo','oom')"), ev("#!lua flags=allow-oom\nreturn redis.call('get','foo')"),
      ['EVAL_RO', "return redis.call('get','foo')", '0'], ['EVAL_RO', '#!lua\nreturn 1', '0'], ev('return 1'), ['SCRIPT', 'LOAD', 'return 2'],
      ['EVALSHA', sha1('#!lua\nreturn 1'), '0'],
      ['MULTI'], ev("return redis.call('get','foo')"), ev('#!lua\nreturn 1'), ['EXEC'],
      ev("return redis.call('del','foo')"),
      ['CONFIG', 'SET', 'maxmemory', '0'],
    ]);
  } finally {
    for (const port of [pair.amber.port, pair.redis.port]) await callsOn(port, [['CONFIG', 'SET', 'maxmemory', '0']]);
  }
});

test('scripts inside MULTI/EXEC: queued, run at EXEC, errors reported in place', { skip }, async () => {
  await bothProtocols([
    ['FLUSHALL'], ['SCRIPT', 'FLUSH'],
    ['MULTI'], ev("return redis.call('incr',KEYS[1])", '1', 'c'), ev("return redis.call('nosuch')"), ev("return 'x"),
    ['EVALSHA', 'ffd632c7d33e571e9f24556ebed26c3479a87130', '0'], ['SCRIPT', 'LOAD', 'return 5'], ['EVALSHA', sha1('return 5'), '0'],
    ev("return redis.call('incr',KEYS[1])", '1', 'c'), ev("redis.call('set','t','1'); error('half')"), ['GET', 't'], ['EXEC'],
    ['MULTI'], ev('return 1', '-1'), ['EXEC'],
    ['MULTI'], ['EVAL', 'return 1'], ['EXEC'],
    ['MULTI'], ['EVALSHA'], ['EXEC'],
    ['MULTI'], ['SCRIPT', 'FLUSH'], ['SCRIPT', 'EXISTS', sha1('return 5')], ['SCRIPT', 'KILL'], ['SCRIPT', 'BOGUS'], ['EXEC'],
    ['MULTI'], ['EVAL_RO', "return redis.call('get','c')", '0'], ['EVAL_RO', "return redis.call('del','c')", '0'], ['EXEC'],
    ['MULTI'], ev("redis.setresp(3); return redis.call('hgetall','nohash')"), ev('return {double=1.5}'), ev('return false'), ['EXEC'],
  ]);
});

test('WATCH and scripts: a script writing a watched key aborts the transaction, a read or a failed write does not', { skip }, async () => {
  await steps([
    [0, ['FLUSHALL']], [0, ['SET', 'k', '1']],
    [0, ['WATCH', 'k']], [1, ev("return redis.call('incr', KEYS[1])", '1', 'k')], [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ev("return redis.call('get', KEYS[1])", '1', 'k')], [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [0, ev("return redis.call('set', 'k', 'mine')")], [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ev("redis.call('set', 'k', 'x'); error('fail')")], [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ev("return redis.pcall('lpush', 'k', 'x')")], [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [0, ['MULTI']], [0, ev("return redis.call('set', 'k', 'in-tx')")], [1, ['SET', 'k', 'other']], [0, ['EXEC']], [0, ['GET', 'k']],
    [0, ['WATCH', 'k']], [1, ev("redis.call('select','1'); return redis.call('set', 'k', 'db1')")], [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ev("return redis.call('del', 'k')")], [0, ['MULTI']], [0, ['EXISTS', 'k']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ['EVAL_RO', "return redis.call('exists', 'k')", '0']], [0, ['MULTI']], [0, ['EXISTS', 'k']], [0, ['EXEC']],
  ]);
});

test("SELECT inside a script: it changes the script's database only; the caller's database is the script's first", { skip }, async () => {
  await bothProtocols([
    ['FLUSHALL'], ['SET', 'k', 'db0'], ['SELECT', '1'], ['SET', 'k', 'db1'],
    ev("return redis.call('get','k')"), ev("redis.call('select','0'); return redis.call('get','k')"), ['GET', 'k'],
    ev("return redis.call('select','99')"), ev("return redis.pcall('select','99')"), ev("return redis.pcall('select','x')"),
    ev("redis.call('select','2'); redis.call('set','k','db2'); return redis.call('get','k')"), ['GET', 'k'],
    ['SELECT', '2'], ['GET', 'k'], ['SELECT', '0'],
    ['MULTI'], ['SELECT', '1'], ev("redis.call('select','3'); return redis.call('set','k','db3')"), ['GET', 'k'], ['EXEC'],
    ['GET', 'k'], ['SELECT', '3'], ['GET', 'k'], ev("redis.call('select','4'); error('after select')"), ['GET', 'k'], ['SELECT', '0'],
    ev("redis.call('select','5'); redis.call('set','in5','x'); redis.call('select','0'); return redis.call('get','in5')"),
    ['SELECT', '5'], ['GET', 'in5'], ['SELECT', '0'],
    ev("return redis.call('swapdb','0','1')"), ev("return redis.call('move','k','5')"), ev("return redis.call('dbsize')"),
    ev("return redis.call('flushdb')"), ev("return redis.call('dbsize')"), ['SELECT', '1'], ['DBSIZE'],
  ]);
});

test('INFO commandstats, errorstats and the script memory fields after scripts', { skip }, async () => {
  const cmds = [
    ['FLUSHALL'], ['SCRIPT', 'FLUSH'], ['CONFIG', 'RESETSTAT'],
    ev("redis.call('set','a','1'); redis.call('set','b','2'); return redis.call('get','a')"),
    ev("return redis.call('nosuch')"), ev("return redis.pcall('incr','a2')"), ['SET', 's', 'x'],
    ev("return redis.pcall('incr','s')"), ev("return redis.call('incr','s')"), ev("redis.pcall('incr','s'); return 1"),
    ev("redis.pcall('lpush','s','a'); return 1"), ev("local ok = pcall(redis.call, 'lpush','s','a'); return 1"),
    ev("return redis.call('lpush','s','a')"), ev("redis.pcall('nosuch'); return 1"), ev("error('x')"),
    ev("return {err='MYERR x'}"), ev("return redis.error_reply('OTHER y')"), ev("error({err='CUSTOM x'})"), ev("return 'x"),
    ['EVAL_RO', "return redis.call('set','a','1')", '0'], ['EVALSHA', 'ffd632c7d33e571e9f24556ebed26c3479a87130', '0'],
    ev('return 1', '-1'), ev("return redis.call('get','a','b')"), ev("return redis.pcall('multi')"),
    ev("#!lua flags=no-writes\nreturn redis.pcall('set','a','2')"), ev('#!lua flags=bogus\nreturn 1'),
    ['SCRIPT', 'LOAD', 'return 1'], ['EVALSHA', sha1('return 1'), '0'], ['SCRIPT', 'EXISTS', 'x'],
  ];
  await both(cmds);
  const [ae, re] = [await info(pair.amber.port, 'errorstats'), await info(pair.redis.port, 'errorstats')];
  assert.deepEqual([...ae], [...re], 'INFO errorstats');
  assert.equal(re.get('errorstat_ERR'), 'count=13');
  const counts = (m: Map<string, string>): string[] =>
    [...m].map(([k, v]) => `${k}:${v.replace(/usec=\d+,usec_per_call=[\d.]+,/, '')}`).filter((l) => !l.startsWith('cmdstat_info:')).sort();
  const [ac, rc] = [await info(pair.amber.port, 'commandstats'), await info(pair.redis.port, 'commandstats')];
  assert.deepEqual(counts(ac), counts(rc), 'INFO commandstats');
  assert.equal(rc.get('cmdstat_set')?.replace(/usec=\d+,usec_per_call=[\d.]+,/, ''), 'calls=3,rejected_calls=2,failed_calls=0');
  const [as, rs] = [await info(pair.amber.port, 'stats'), await info(pair.redis.port, 'stats')];
  for (const f of ['total_error_replies', 'unexpected_error_replies']) assert.equal(as.get(f), rs.get(f), f);
  // the script memory fields: names in Redis's order, number_of_cached_scripts exactly, sizes masked
  const FIELDS = /^(used_memory_lua|used_memory_vm_eval|used_memory_lua_human|used_memory_scripts_eval|number_of_cached_scripts|used_memory_scripts|used_memory_scripts_human)$/;
  const memory = async (port: number): Promise<string[]> =>
    [...(await info(port, 'memory'))].filter(([k]) => FIELDS.test(k)).map(([k, v]) =>
      k === 'number_of_cached_scripts' ? `${k}:${v}` : k === 'used_memory_scripts_eval' ? `${k}:${v === '0' ? '0' : 'N'}` : `${k}:N`);
  const [am, rm] = [await memory(pair.amber.port), await memory(pair.redis.port)];
  assert.deepEqual(am, rm, 'INFO memory (scripts)');
  assert.ok(rm.includes('number_of_cached_scripts:19'), rm.join(' '));
  await both([['SCRIPT', 'FLUSH']]);
  assert.deepEqual(await memory(pair.amber.port), await memory(pair.redis.port), 'INFO memory after SCRIPT FLUSH');
  assert.ok((await memory(pair.redis.port)).includes('used_memory_scripts_eval:0'));
});

test('keyspace notifications of the writes a script makes', { skip }, async () => {
  const script: string[][] = [
    ev("redis.call('set','a','1'); redis.call('incr','a'); redis.call('expire','a','100'); redis.call('del','a'); redis.call('lpush','l','x'); return 1"),
    ev("redis.call('select','2'); redis.call('set','b','1'); redis.call('hset','h','f','v')"),
    ev("redis.call('set','c','1'); error('stop')"), ev("redis.pcall('lpush','c','x'); redis.call('rpop','l')"),
  ];
  const [a, r] = await pair.onBoth((port) => collectNotifications(port, script));
  assert.deepEqual(a, r);
});

test('MONITOR shows the script, then each command it ran as [db lua]', { skip }, async () => {
  const [a, r] = await pair.onBoth(async (port) => {
    const mon = await RawClient.connect(port);
    const c = await RawClient.connect(port);
    try {
      await mon.call('MONITOR');
      for (const cmd of [
        ['SET', 's', 'x'], ev("redis.call('set','a','1'); return redis.call('get','a')"), ['SELECT', '3'],
        ev("redis.pcall('incr','s'); redis.pcall('nosuch'); redis.pcall('get','a','b'); redis.call('select','4'); return redis.call('ping')"),
        ev("return redis.pcall('multi')"), ['EVAL_RO', "return redis.pcall('set','x','y')", '0'], ev('return 1', '-1'), ev("return 'x"),
        ['SCRIPT', 'LOAD', "return redis.call('echo', 'x\\0y')"], ['EVALSHA', sha1("return redis.call('echo', 'x\\0y')"), '0'],
        ['ECHO', 'last'],
      ]) await c.call(...cmd);
      const lines = await monitorUntilLast(mon);
      return lines;
    } finally {
      c.close();
      mon.close();
    }
  });
  assert.deepEqual(a, r);
});

test('real scripts: a rate limiter (INCR + PEXPIRE), a lock release (GET compare + DEL), DECR_IF_GT', { skip }, async () => {
  const limiter = [
    "local current = redis.call('INCR', KEYS[1])",
    "if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end",
    'if current > tonumber(ARGV[2]) then',
    "  return {0, current, redis.call('PTTL', KEYS[1]) > 0}",
    'end',
    'return {1, current}',
  ].join('\n');
  const unlock = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
  const decrIfGt = [
    'local current',
    "current = redis.call('get',KEYS[1])",
    'if not current then return nil end',
    "if current > ARGV[1] then return redis.call('decr',KEYS[1]) else return redis.call('get',KEYS[1]) end",
  ].join('\n');
  const cmds: string[][] = [['FLUSHALL'], ['SCRIPT', 'FLUSH']];
  for (let i = 0; i < 7; i++) cmds.push(ev(limiter, '1', 'rl:user:1', '60000', '5'));
  cmds.push(['EXISTS', 'rl:user:1'], ev(limiter, '1', 'rl:user:2', '60000', '5'));
  cmds.push(
    ['SET', 'lock:res', 'token-1', 'NX', 'PX', '30000'], ['SET', 'lock:res', 'token-2', 'NX', 'PX', '30000'],
    ev(unlock, '1', 'lock:res', 'token-2'), ['GET', 'lock:res'], ev(unlock, '1', 'lock:res', 'token-1'), ['EXISTS', 'lock:res'],
    ev(unlock, '1', 'lock:res', 'token-1'),
    ['SET', 'foo', '5'],
  );
  for (let i = 0; i < 5; i++) cmds.push(ev(decrIfGt, '1', 'foo', '2'));
  cmds.push(ev(decrIfGt, '1', 'nofoo', '2'));
  const rr = await both(cmds);
  assert.equal(rr[2], '*2\r\n:1\r\n:1\r\n');
  assert.equal(rr[8], '*3\r\n:0\r\n:7\r\n:1\r\n');
});

/** MessagePack of a flat map of short strings and non-negative integers below 65536 (as msgpackr packs small job options). */
function msgpackMap(obj: Record<string, string | number>): string {
  const entries = Object.entries(obj);
  const str = (v: string): string => String.fromCharCode(0xa0 | v.length) + v;
  let s = String.fromCharCode(0x80 | entries.length);
  for (const [k, v] of entries) {
    s += str(k);
    if (typeof v === 'string') s += str(v);
    else if (v < 128) s += String.fromCharCode(v);
    else s += '\xcd' + String.fromCharCode(v >> 8, v & 0xff);
  }
  return s;
}

test('real scripts: a BullMQ-like queue (cmsgpack options, cjson data, hashes, lists, zsets, streams)', { skip }, async () => {
  // KEYS: id counter, job key prefix, wait list, delayed zset, events stream; ARGV: data, job id, packed opts, timestamp
  const addJob = [
    'local opts = cmsgpack.unpack(ARGV[3])',
    'local jobId = ARGV[2]',
    "if jobId == '' then jobId = tostring(redis.call('INCR', KEYS[1])) end",
    'local jobKey = KEYS[2] .. jobId',
    "if redis.call('EXISTS', jobKey) == 1 then return redis.error_reply('DUPLICATE job ' .. jobId) end",
    'local delay = opts.delay or 0',
    "redis.call('HSET', jobKey, 'name', opts.name, 'data', ARGV[1], 'opts', cjson.encode(opts), 'timestamp', ARGV[4], 'delay', delay, 'priority', opts.priority or 0, 'atm', 0)",
    'if delay > 0 then',
    "  redis.call('ZADD', KEYS[4], tonumber(ARGV[4]) + delay, jobId)",
    'else',
    "  redis.call('LPUSH', KEYS[3], jobId)",
    'end',
    "redis.call('XADD', KEYS[5], 'MAXLEN', '~', 10000, ARGV[4] .. '-' .. jobId, 'event', 'added', 'jobId', jobId, 'name', opts.name)",
    'return jobId',
  ].join('\n');
  // KEYS: wait list, active list, job key prefix; ARGV: timestamp
  const moveToActive = [
    "local jobId = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])",
    'if not jobId then return false end',
    'local jobKey = KEYS[3] .. jobId',
    "redis.call('HSET', jobKey, 'processedOn', ARGV[1])",
    "local attempts = redis.call('HINCRBY', jobKey, 'atm', 1)",
    "local data = cjson.decode(redis.call('HGET', jobKey, 'data'))",
    "return {jobId, attempts, data.to, tostring(data.n), redis.call('HGET', jobKey, 'name')}",
  ].join('\n');
  // KEYS: active list, completed zset, job key prefix; ARGV: job id, return value (JSON), timestamp
  const complete = [
    'local jobKey = KEYS[3] .. ARGV[1]',
    "if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return redis.error_reply('NOTACTIVE job ' .. ARGV[1] .. ' is not active') end",
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])",
    "redis.call('HSET', jobKey, 'returnvalue', cjson.encode(cjson.decode(ARGV[2])), 'finishedOn', ARGV[3])",
    "return redis.call('HGETALL', jobKey)",
  ].join('\n');
  const q = ['bull:q:id', 'bull:q:', 'bull:q:wait', 'bull:q:delayed', 'bull:q:events'];
  const ts = '1700000000000';
  const cmds: string[][] = [
    ['FLUSHALL'], ['SCRIPT', 'FLUSH'], ['SCRIPT', 'LOAD', addJob],
    ['EVALSHA', sha1(addJob), '5', ...q, '{"to":"a@b.c","n":3}', '', msgpackMap({ name: 'email', attempts: 3 }), ts],
    ev(addJob, '5', ...q, '{"to":"d@e.f","n":1.5}', '', msgpackMap({ name: 'email', delay: 5000, priority: 2 }), ts),
    ev(addJob, '5', ...q, '{"to":"x@y.z","n":0}', 'custom-id', msgpackMap({ name: 'sms' }), ts),
    ev(addJob, '5', ...q, '{"to":"x@y.z","n":0}', 'custom-id', msgpackMap({ name: 'sms' }), ts),
    ev(moveToActive, '3', 'bull:q:wait', 'bull:q:active', 'bull:q:', '1700000000100'),
    ev(complete, '3', 'bull:q:active', 'bull:q:completed', 'bull:q:', '1', '{"sent":true,"ids":[1,2]}', '1700000000200'),
    ev(complete, '3', 'bull:q:active', 'bull:q:completed', 'bull:q:', '1', '{}', '1700000000300'),
    ev(moveToActive, '3', 'bull:q:wait', 'bull:q:active', 'bull:q:', '1700000000400'),
    ev(moveToActive, '3', 'bull:q:wait', 'bull:q:active', 'bull:q:', '1700000000500'),
    ['HGETALL', 'bull:q:1'], ['HGETALL', 'bull:q:2'], ['HGETALL', 'bull:q:custom-id'], ['LRANGE', 'bull:q:wait', '0', '-1'],
    ['LRANGE', 'bull:q:active', '0', '-1'], ['ZRANGE', 'bull:q:delayed', '0', '-1', 'WITHSCORES'],
    ['ZRANGE', 'bull:q:completed', '0', '-1', 'WITHSCORES'], ['XRANGE', 'bull:q:events', '-', '+'],
  ];
  await bothProtocols(cmds);
});

test('ioredis defineCommand: EVALSHA, NOSCRIPT then EVAL, pipelines, script errors', { skip }, async () => {
  interface Scripted {
    capIncr(key: string, cap: number): Promise<number>;
    failing(key: string): Promise<unknown>;
  }
  interface ScriptedPipeline {
    capIncr(key: string, cap: number): ScriptedPipeline;
    failing(key: string): ScriptedPipeline;
    exec(): Promise<Array<[Error | null, unknown]> | null>;
  }
  const [a, r] = await pair.onBoth(async (port) => {
    const mon = await RawClient.connect(port);
    await mon.call('MONITOR');
    const io = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const out: unknown[] = [];
    try {
      await io.connect();
      io.defineCommand('capIncr', {
        numberOfKeys: 1,
        lua: "local v = redis.call('INCR', KEYS[1]) if v > tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) return tonumber(ARGV[1]) end return v",
      });
      io.defineCommand('failing', { numberOfKeys: 1, lua: "return redis.call('LPUSH', KEYS[1], 'x')" });
      const s = io as unknown as Scripted;
      out.push(await io.flushall(), await io.script('FLUSH'));
      out.push(await s.capIncr('ctr', 2), await s.capIncr('ctr', 2), await s.capIncr('ctr', 2));
      // flushed behind ioredis's back: its EVALSHA gets NOSCRIPT and it falls back to EVAL
      const other = await RawClient.connect(port);
      out.push(await other.call('SCRIPT', 'FLUSH'));
      other.close();
      out.push(await s.capIncr('ctr', 3), await s.capIncr('ctr', 3));
      out.push(await io.set('str', 'v'));
      out.push(await s.failing('str').catch((e: Error) => `rejected: ${e.message}`));
      out.push(await io.script('FLUSH'));
      const p = io.pipeline() as unknown as ScriptedPipeline;
      const res = await p.capIncr('ctr2', 5).capIncr('ctr2', 5).failing('str').exec();
      out.push(res?.map(([e, v]) => (e ? `error: ${e.message}` : v)));
      out.push(await io.script('FLUSH'));
      const m = io.multi() as unknown as ScriptedPipeline;
      const mres = await m.capIncr('ctr3', 1).capIncr('ctr3', 1).exec();
      out.push(mres?.map(([e, v]) => (e ? `error: ${e.message}` : v)));
      out.push(await io.get('ctr'), await io.get('ctr2'), await io.get('ctr3'));
      out.push(await io.echo('last'));
      const lines = await monitorUntilLast(mon);
      return { out, lines };
    } finally {
      io.disconnect();
      mon.close();
    }
  });
  assert.deepEqual(a.out, r.out);
  assert.deepEqual(a.lines, r.lines);
  assert.deepEqual(r.out.slice(2, 5), [1, 2, 2]);
});

// Last: a server that let these writes through would break every script after (string methods,
// globals protection), so they come after all the other tests.
test('the shared metatables (strings, globals) are read-only too', { skip }, async () => {
  await bothProtocols([
    ev("getmetatable('').__index = nil"), ev("getmetatable('').x = 1"), ev("rawset(getmetatable(''), '__index', nil)"),
    ev("setmetatable(getmetatable(''), {})"), ev("local s = 'abc'; return s:upper()"),
    ev('local mt = getmetatable(_G); mt.__index = nil'), ev('local mt = getmetatable(_G); mt.__newindex = nil'),
    ev("rawset(getmetatable(_G), '__newindex', nil)"), ev('return nosuchglobal'), ev('newglobal = 1'),
  ]);
});
