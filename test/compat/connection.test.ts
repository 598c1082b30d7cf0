/**
 * Connection commands compared byte for byte with redis-server 7.0.15: PING, ECHO, SELECT, QUIT,
 * RESET, AUTH (with and without requirepass), HELLO (reply shape in RESP2 and RESP3, errors,
 * SETNAME, AUTH), in both protocols.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, sameReplies, type RedisChild } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

/** No RDB save points: these servers must not write dump.rdb into the working directory on close. */
const NO_SAVE = { save: '' };

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;
let amberPw: RunningServer;
let redisPw: RedisChild;

before(async () => {
  if (skip) return;
  amber = await startAmber(NO_SAVE);
  redis = await startRedis();
  amberPw = await startAmber({ ...NO_SAVE, requirepass: 's3cret' });
  // the helper's readiness PING needs no password: set it once the server is up
  redisPw = await startRedis();
  const rc = await RawClient.connect(redisPw.port);
  await rc.call('CONFIG', 'SET', 'requirepass', 's3cret');
  rc.close();
});

after(async () => {
  await amber?.close();
  await redis?.close();
  await amberPw?.close();
  await redisPw?.close();
});

/** HELLO's `id` is the connection id, which differs between the servers. */
function maskId(s: string): string {
  return s.replace(/(\$2\r\nid\r\n):\d+\r\n/, '$1:<id>\r\n');
}

async function both(cmds: string[][], hello3 = false, ports = [amber.port, redis.port]): Promise<void> {
  const [a, r] = await sameReplies(ports[0]!, ports[1]!, cmds, hello3);
  assert.deepEqual(a.map(maskId), r.map(maskId));
}

test('PING, ECHO and their arity errors', { skip }, async () => {
  await both([['PING'], ['PING', 'hi'], ['PING', ''], ['PING', 'a', 'b'], ['ECHO', 'x\r\ny'], ['ECHO'], ['ECHO', 'a', 'b'], ['ping'], ['PiNg', 'x']]);
  await both([['PING'], ['PING', 'hi'], ['ECHO', 'z']], true);
});

test('SELECT: valid, out of range, not an integer, beyond int', { skip }, async () => {
  await both([
    ['SELECT', '1'], ['SELECT', '15'], ['SELECT', '16'], ['SELECT', '-1'], ['SELECT', '1.5'], ['SELECT', 'x'],
    ['SELECT', '2147483648'], ['SELECT', '-2147483649'], ['SELECT', '99999999999999999999'], ['SELECT', ' 1'],
    ['SELECT', '0'], ['SELECT'], ['SELECT', '1', '2'],
  ]);
});

test('HELLO: reply shape in RESP2 and RESP3, errors', { skip }, async () => {
  await both([['HELLO'], ['HELLO', '2'], ['HELLO', '3'], ['HELLO'], ['HELLO', '2']]);
  await both([
    ['HELLO', '1'], ['HELLO', '4'], ['HELLO', '0'], ['HELLO', '-3'], ['HELLO', 'abc'], ['HELLO', '99999999999999999999'],
    ['HELLO', '3', 'FOO'], ['HELLO', '3', 'AUTH'], ['HELLO', '3', 'AUTH', 'default'], ['HELLO', '3', 'SETNAME'],
    ['HELLO', '3', 'SETNAME', 'a b'], ['HELLO', '3', 'setname', 'ok-name', 'foo'],
    ['CLIENT', 'GETNAME'], ['HELLO', '3', 'AUTH', 'nouser', 'pw'], ['HELLO', '3', 'AUTH', 'default', 'anything'],
    ['HELLO', '2', 'SETNAME', 'n1', 'AUTH', 'default', 'x'], ['CLIENT', 'GETNAME'], ['PING'],
  ]);
});

test('AUTH without a password configured', { skip }, async () => {
  await both([
    ['AUTH', 'x'], ['AUTH', 'default', 'x'], ['AUTH', 'nouser', 'x'], ['AUTH', 'a', 'b', 'c'], ['AUTH'], ['PING'],
  ]);
});

test('AUTH and HELLO with requirepass', { skip }, async () => {
  const ports = [amberPw.port, redisPw.port];
  await both([
    ['PING'], ['GET', 'k'], ['HELLO', '3'], ['HELLO'], ['CLIENT', 'ID'], ['AUTH', 'wrong'], ['AUTH', 'default', 'wrong'],
    ['AUTH', 'nouser', 's3cret'], ['PING'], ['AUTH', 's3cret'], ['PING'], ['AUTH', 'wrong'], ['PING'],
  ], false, ports);
  await both([
    ['HELLO', '3', 'SETNAME', 'early'], ['HELLO', '3', 'AUTH', 'default', 'nope'], ['HELLO', '3', 'AUTH', 'default', 's3cret'],
    ['CLIENT', 'GETNAME'], ['PING'],
  ], false, ports);
  await both([
    ['AUTH', 'default', 's3cret'], ['RESET'], ['PING'], ['AUTH', 's3cret'], ['PING'],
  ], false, ports);
});

test('a `user default` line with password digests, as CONFIG REWRITE writes it, and one overriding requirepass', { skip }, async () => {
  // SHA-256 of "s3cret": the form Redis's CONFIG REWRITE gives a password of the default user
  const h = createHash('sha256').update('s3cret').digest('hex');
  const user = ['default', 'on', `#${h}`, '~*', '&*', '+@all'];
  const a = await startAmber({ ...NO_SAVE, user });
  // the helper's readiness PING needs no password: the same rules, from a reset user as the
  // config loader applies them, once the server is up
  const r = await startRedis();
  const rc = await RawClient.connect(r.port);
  assert.equal(await rc.call('ACL', 'SETUSER', 'default', 'reset', ...user.slice(1)), '+OK\r\n');
  rc.close();
  // a later `requirepass` does not beat the user line, which is applied after the whole file
  const a2 = await startAmber({ ...NO_SAVE, user: ['default', 'on', 'nopass', '~*', '&*', '+@all'], requirepass: 'other' });
  const r2 = await startRedis(['--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '--requirepass', 'other']);
  // a line without `on` leaves the default user off (the line starts from a reset user)
  const a3 = await startAmber({ ...NO_SAVE, user: ['default', 'nopass', '~*', '&*', '+@all'] });
  const r3 = await startRedis();
  const rc3 = await RawClient.connect(r3.port);
  assert.equal(await rc3.call('ACL', 'SETUSER', 'default', 'reset', 'nopass', '~*', '&*', '+@all'), '+OK\r\n');
  rc3.close();
  try {
    await both([
      ['PING'], ['AUTH', 'wrong'], ['AUTH', 'default', 'wrong'], ['PING'], ['CONFIG', 'GET', 'requirepass'],
      ['AUTH', 's3cret'], ['PING'], ['CONFIG', 'GET', 'requirepass'], ['RESET'], ['PING'], ['AUTH', 'default', 's3cret'], ['PING'],
      // CONFIG SET requirepass gives the default user that password instead
      ['CONFIG', 'SET', 'requirepass', 'next'], ['RESET'], ['AUTH', 's3cret'], ['AUTH', 'next'], ['PING'],
    ], false, [a.port, r.port]);
    await both([['PING'], ['AUTH', 'other'], ['AUTH', 'x'], ['CONFIG', 'GET', 'requirepass'], ['RESET'], ['PING']], false, [a2.port, r2.port]);
    await both([['PING'], ['AUTH', 'x'], ['AUTH', 'default', 'x'], ['HELLO', '3', 'AUTH', 'default', 'x'], ['PING']], false, [a3.port, r3.port]);
  } finally {
    await a.close();
    await r.close();
    await a2.close();
    await r2.close();
    await a3.close();
    await r3.close();
  }
});

test('RESET: db, protocol, name, reply mode, MULTI', { skip }, async () => {
  await both([
    ['SELECT', '3'], ['CLIENT', 'SETNAME', 'n'], ['HELLO', '3'], ['MULTI'], ['RESET'], ['CLIENT', 'GETNAME'],
    ['HELLO'], ['EXEC'], ['RESET', 'x'],
  ]);
  // CLIENT REPLY OFF then PING answer nothing; RESET turns replies back on
  const out: string[][] = [];
  for (const port of [amber.port, redis.port]) {
    const c = await RawClient.connect(port);
    const cmds = [['CLIENT', 'REPLY', 'OFF'], ['PING'], ['RESET'], ['PING']];
    out.push(await c.sendRaw(cmds.map(RawClient.encode).join(''), 2));
    c.close();
  }
  assert.deepEqual(out[0], out[1]);
});

test('QUIT replies +OK and closes', { skip }, async () => {
  for (const port of [amber.port, redis.port]) {
    const c = await RawClient.connect(port);
    assert.equal(await c.call('QUIT'), '+OK\r\n');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.closed, true);
  }
});

test('HELLO 3 then RESP3 replies match for a few types', { skip }, async () => {
  await both([['SET', 'conn:k', 'v'], ['GET', 'conn:k'], ['GET', 'conn:none'], ['CLIENT', 'GETNAME'], ['TIME', 'x']], true);
});
