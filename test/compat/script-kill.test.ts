/**
 * Busy scripts against redis-server 7.0.15, byte for byte: while a script runs past
 * busy-reply-threshold, other clients get -BUSY (the SCRIPT KILL text for EVAL, the FUNCTION KILL
 * text for FCALL) except for allow_busy commands (MULTI, WATCH, SCRIPT KILL, FUNCTION KILL,
 * FUNCTION STATS, SHUTDOWN NOSAVE...); EXEC is refused with EXECABORT; SCRIPT KILL and FUNCTION
 * KILL refuse the other kind of script (BUSY), a script that wrote (UNKILLABLE) and an idle server
 * (NOTBUSY), and end a script that did not write with Redis's error to its caller; FUNCTION STATS
 * shows the running function (its duration masked); a busy script inside the caller's MULTI/EXEC
 * ends the transaction's reply in order, and the caller's pipelined commands run after it.
 *
 * Not compared: SHUTDOWN NOSAVE during a busy script (it stops the server: see
 * test/integration/busy-scripts.test.ts, which also covers what is persisted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatPair } from '../helpers/compat.js';
import { RawClient } from '../helpers/servers.js';

const pair = compatPair({ clients: 'none' });
const { skip } = pair;

const SPIN = 'local i = 0 while true do i = i + 1 end';
const LIB = '#!lua name=busylib\n' +
  "redis.register_function('spin', function(keys, args)\n  local i = 0 while true do i = i + 1 end\nend)\n" +
  "redis.register_function('spinw', function(keys, args)\n  redis.call('set', 'w', '1')\n  local i = 0 while true do i = i + 1 end\nend)\n";

/** Polls with PING on `c` until the server answers BUSY (at most ~5 s). */
async function waitBusy(c: RawClient): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await c.call('PING')).startsWith('-BUSY')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail('the server never became busy');
}

/**
 * On `port`: client A sends `script` (its replies collected), B waits for BUSY then runs `during`
 * (replies collected), then `end` on B (what ends the script). Resolves to all replies, A's last.
 */
async function busyRun(port: number, script: string[][], during: string[][], end: string[][], hello3 = false): Promise<string[]> {
  const a = await RawClient.connect(port);
  const b = await RawClient.connect(port);
  try {
    await b.call('CONFIG', 'SET', 'busy-reply-threshold', '100');
    if (hello3) await b.call('HELLO', '3');
    const caller = a.pipeline(script);
    await waitBusy(b);
    const out: string[] = [];
    for (const cmd of during) out.push(await b.call(...cmd));
    for (const cmd of end) out.push(await b.call(...cmd));
    out.push(...(await caller));
    out.push(await b.call('SCRIPT', 'KILL'));
    return out.map((r) => r.replace(/duration_ms\r\n:\d+/, 'duration_ms\r\n:N'));
  } finally {
    a.close();
    b.close();
  }
}

async function same(script: string[][], during: string[][], end: string[][], hello3 = false): Promise<void> {
  const ra = await busyRun(pair.amber.port, script, during, end, hello3);
  const rr = await busyRun(pair.redis.port, script, during, end, hello3);
  assert.deepEqual(ra, rr);
}

test('an EVAL past busy-reply-threshold: BUSY for others, allow_busy commands run, SCRIPT KILL ends it', { skip }, async () => {
  const during = [['GET', 'x'], ['SET', 'x', '1'], ['INFO'], ['FUNCTION', 'KILL'], ['FUNCTION', 'STATS'], ['SHUTDOWN'],
    ['SHUTDOWN', 'SAVE'], ['EXEC'], ['MULTI'], ['SET', 'q', '1'], ['WATCH', 'x'], ['UNWATCH'], ['DISCARD'], ['CLIENT', 'LIST']];
  await same([['EVAL', SPIN, '0']], during, [['SCRIPT', 'KILL']]);
  await same([['EVAL', SPIN, '0']], [['GET', 'x'], ['FUNCTION', 'STATS']], [['SCRIPT', 'KILL']], true);
});

test('FCALL past busy-reply-threshold: the FUNCTION KILL texts, FUNCTION STATS, UNKILLABLE after a write', { skip }, async () => {
  for (const port of [pair.amber.port, pair.redis.port]) {
    const c = await RawClient.connect(port);
    assert.equal(await c.call('FUNCTION', 'LOAD', 'REPLACE', LIB), '$7\r\nbusylib\r\n');
    c.close();
  }
  await same([['FCALL', 'spin', '0']], [['GET', 'x'], ['SCRIPT', 'KILL'], ['FUNCTION', 'STATS']], [['FUNCTION', 'KILL']]);
  await same([['FCALL', 'spin', '0']], [['FUNCTION', 'STATS']], [['FUNCTION', 'KILL']], true);
  // a script that wrote cannot be killed: it is left to run out its bound here
  const bounded = "#!lua name=boundlib\nredis.register_function('w', function(keys, args)\n  redis.call('set', 'w', '1')\n  local t = redis.call('time')\n  while true do\n    local n = redis.call('time')\n    if (n[1] - t[1]) * 1000000 + n[2] - t[2] > 600000 then break end\n  end\n  return 'done'\nend)\n";
  for (const port of [pair.amber.port, pair.redis.port]) {
    const c = await RawClient.connect(port);
    await c.call('FUNCTION', 'LOAD', 'REPLACE', bounded);
    c.close();
  }
  await same([['FCALL', 'w', '0']], [['FUNCTION', 'KILL'], ['SCRIPT', 'KILL']], []);
});

test('a busy script in the caller\'s MULTI/EXEC, and the caller\'s pipelined commands after it', { skip }, async () => {
  await same([['MULTI'], ['SET', 'before', '1'], ['EVAL', SPIN, '0'], ['SET', 'after', '2'], ['EXEC'], ['GET', 'after'], ['DEL', 'before', 'after']],
    [['GET', 'before']], [['SCRIPT', 'KILL']]);
});

test('SCRIPT KILL and FUNCTION KILL with nothing running: NOTBUSY', { skip }, async () => {
  for (const port of [pair.amber.port, pair.redis.port]) {
    const c = await RawClient.connect(port);
    assert.equal(await c.call('SCRIPT', 'KILL'), '-NOTBUSY No scripts in execution right now.\r\n');
    assert.equal(await c.call('FUNCTION', 'KILL'), '-NOTBUSY No scripts in execution right now.\r\n');
    c.close();
  }
});
