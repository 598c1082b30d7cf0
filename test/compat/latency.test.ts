/**
 * LATENCY compared with redis-server 7.0.15: errors, HELP and the monitor-off texts byte for
 * byte; LATEST, HISTORY, GRAPH and DOCTOR after the same DEBUG SLEEPs with the numbers that
 * depend on timing masked; HISTOGRAM by structure (command names, calls, an ascending cumulative
 * distribution ending at the calls), in RESP2 and RESP3.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, sameReplies, type RedisChild } from '../helpers/servers.js';
import { decode, type Decoded } from '../helpers/resp.js';
import type { RunningServer } from '../../src/index.js';

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;

before(async () => {
  if (skip) return;
  amber = await startAmber({ save: '' });
  redis = await startRedis();
});

after(async () => {
  await amber?.close();
  await redis?.close();
});

async function both(cmds: string[][], hello3 = false): Promise<void> {
  const [a, r] = await sameReplies(amber.port, redis.port, cmds, hello3);
  assert.deepEqual(a, r);
}

/** Runs `fn` on a fresh connection to each server, one after the other, and returns both results. */
async function onBoth<T>(fn: (c: RawClient) => Promise<T>): Promise<[T, T]> {
  const out: T[] = [];
  for (const port of [amber.port, redis.port]) {
    const c = await RawClient.connect(port);
    try {
      out.push(await fn(c));
    } finally {
      c.close();
    }
  }
  return [out[0]!, out[1]!];
}

/** Waits for the start of the next wall-clock second (samples of one second are merged). */
async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}

test('LATENCY errors, HELP and the reports of a monitor that is off, like Redis', { skip }, async () => {
  const cmds = [
    ['CONFIG', 'SET', 'latency-monitor-threshold', '0'], ['LATENCY', 'RESET'],
    ['LATENCY'], ['LATENCY', 'FOO'], ['LATENCY', 'HISTORY'], ['LATENCY', 'HISTORY', 'a', 'b'], ['LATENCY', 'GRAPH'],
    ['LATENCY', 'LATEST', 'x'], ['LATENCY', 'DOCTOR', 'x'], ['LATENCY', 'HELP', 'x'],
    ['LATENCY', 'HELP'], ['latency', 'help'], ['LATENCY', 'LATEST'], ['LATENCY', 'HISTORY', 'command'],
    ['LATENCY', 'GRAPH', 'command'], ['LATENCY', 'DOCTOR'], ['LATENCY', 'RESET', 'command', 'nosuch'],
    ['CONFIG', 'SET', 'latency-monitor-threshold', '500'], ['LATENCY', 'DOCTOR'], ['LATENCY', 'LATEST'],
    ['CONFIG', 'SET', 'latency-monitor-threshold', '-1'], ['CONFIG', 'GET', 'latency-monitor-threshold'],
    ['CONFIG', 'SET', 'latency-monitor-threshold', '0'],
  ];
  await both(cmds);
  await both(cmds, true);
});

/** LATEST / HISTORY / GRAPH / DOCTOR after two slow commands a second apart, timing masked. */
async function spikes(c: RawClient, hello3: boolean): Promise<unknown[]> {
  if (hello3) await c.call('HELLO', '3');
  await c.call('LATENCY', 'RESET');
  await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '50');
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  const out: unknown[] = [];
  await nextSecond();
  const t0 = Math.floor(Date.now() / 1000);
  out.push(await c.call('DEBUG', 'SLEEP', '0.12'));
  out.push(await c.call('DEBUG', 'SLEEP', '0'));
  await nextSecond();
  out.push(await c.call('DEBUG', 'SLEEP', '0.06'));
  const latest = decode(await c.call('LATENCY', 'LATEST')) as Decoded[][];
  assert.equal(latest.length, 1);
  const [event, time, latency, max] = latest[0]!;
  out.push(event);
  assert.ok(Math.abs(Number((time as string).slice(1)) - t0 - 1) <= 1, `${String(time)} near ${t0 + 1}`);
  assert.ok(Number((latency as string).slice(1)) >= 60 && Number((latency as string).slice(1)) < 120, String(latency));
  assert.ok(Number((max as string).slice(1)) >= 120, String(max));
  const hist = decode(await c.call('LATENCY', 'HISTORY', 'command')) as Decoded[][];
  out.push(hist.length, hist.map((s) => Number((s[1] as string).slice(1)) >= 60));
  // the sparkline's shape does not depend on the exact ms, its labels' digits do (seconds ago)
  out.push((await c.call('LATENCY', 'GRAPH', 'command')).replace(/\d/g, 'N'));
  out.push((await c.call('LATENCY', 'DOCTOR')).replace(/\d+/g, 'N'));
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
  out.push((await c.call('LATENCY', 'DOCTOR')).replace(/average \d+ms, mean deviation \d+ms, period [\d.]+ sec\). Worst all time event \d+ms/, ''));
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '100000');
  out.push((await c.call('LATENCY', 'DOCTOR')).replace(/average \d+ms, mean deviation \d+ms, period [\d.]+ sec\). Worst all time event \d+ms/, ''));
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  out.push(await c.call('LATENCY', 'RESET', 'COMMAND'), await c.call('LATENCY', 'LATEST'), await c.call('LATENCY', 'DOCTOR'));
  await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  return out;
}

test('LATENCY LATEST, HISTORY, GRAPH and DOCTOR after slow commands, like Redis', { skip }, async () => {
  for (const hello3 of [false, true]) {
    const [a, r] = await onBoth((c) => spikes(c, hello3));
    assert.deepEqual(a, r);
  }
});

/**
 * LATENCY HISTOGRAM's reply with each distribution reduced to what does not depend on timing,
 * its entries sorted by name: a container's subcommands come in its subcommand table's order,
 * which in Redis is a dict's (hash) order.
 */
function histogramShape(raw: string): unknown {
  const d = decode(raw) as Decoded[];
  const out: unknown[] = [];
  for (let i = 0; i < d.length; i += 2) {
    const [callsKey, calls, histKey, hist] = d[i + 1] as Decoded[];
    const pairs = hist as string[];
    const usec = pairs.filter((_, j) => j % 2 === 0).map((v) => Number(v.slice(1)));
    const cumulative = pairs.filter((_, j) => j % 2 === 1).map((v) => Number(v.slice(1)));
    assert.ok(usec.every((v, j) => j === 0 || v > usec[j - 1]!), `ascending usec ${usec.join(',')}`);
    assert.ok(cumulative.every((v, j) => v > 0 && (j === 0 || v > cumulative[j - 1]!)), `growing counts ${cumulative.join(',')}`);
    out.push([d[i], callsKey, calls, histKey, cumulative.at(-1)]);
  }
  return out.sort((x, y) => String((x as string[])[0]).localeCompare(String((y as string[])[0])));
}

test('LATENCY HISTOGRAM: names, calls and cumulative distributions like Redis', { skip }, async () => {
  for (const hello3 of [false, true]) {
    const [a, r] = await onBoth(async (c) => {
      if (hello3) await c.call('HELLO', '3');
      await c.call('CONFIG', 'RESETSTAT');
      for (let i = 0; i < 5; i++) await c.call('SET', 'k' + i, 'v');
      for (let i = 0; i < 3; i++) await c.call('GET', 'k' + i);
      await c.call('CONFIG', 'GET', 'hz');
      await c.call('DEBUG', 'SLEEP', '0.003');
      const out: unknown[] = [];
      out.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'set', 'nosuch', 'get', 'config|get', 'CONFIG', 'debug')));
      out.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'config|set', 'a|b|c', 'lpush')));
      // every command that ran, in whatever order the server keeps its table
      const all = decode(await c.call('LATENCY', 'HISTOGRAM')) as Decoded[];
      out.push(all.filter((_, j) => j % 2 === 0).sort());
      await c.call('DEL', 'k0', 'k1', 'k2', 'k3', 'k4');
      return out;
    });
    assert.deepEqual(a, r);
  }
});

test('LATENCY HISTOGRAM is empty after CONFIG RESETSTAT and with latency-tracking off', { skip }, async () => {
  const [a, r] = await onBoth(async (c) => {
    const out: unknown[] = [];
    await c.call('CONFIG', 'SET', 'latency-tracking', 'no');
    await c.call('CONFIG', 'RESETSTAT');
    await c.call('SET', 'x', '1');
    out.push(await c.call('LATENCY', 'HISTOGRAM', 'set'));
    await c.call('CONFIG', 'SET', 'latency-tracking', 'yes');
    await c.call('SET', 'x', '1');
    out.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'set')));
    await c.call('DEL', 'x');
    return out;
  });
  assert.deepEqual(a, r);
});
