/**
 * Client eviction (maxmemory-clients, Redis 7.0): a client whose buffers push the clients' memory
 * over the limit is closed, the biggest first; CLIENT NO-EVICT clients stay (and the log says
 * nothing more can be evicted); a percentage of maxmemory works; evicted_clients counts and
 * RESETSTAT zeroes it. The same scenario against redis-server 7.0.15 evicts the same client.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, startRedis, redisAvailable, NO_REDIS } from '../helpers/servers.js';
import { startServer } from '../../src/index.js';
import { clientEvictionLimit } from '../../src/server/client-eviction.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connection that sent `bytes` of a SET value it never finishes (a query buffer that stays). */
async function bigQuery(port: number, bytes: number, noEvict = false): Promise<{ sock: net.Socket; closed: () => boolean }> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => undefined);
  if (noEvict) {
    sock.write('CLIENT NO-EVICT on\r\n');
    await new Promise((r) => sock.once('data', r));
  }
  sock.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${bytes * 2}\r\n${'x'.repeat(bytes)}`);
  return { sock, closed: () => closed };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (let t = 0; t < ms && !cond(); t += 20) await sleep(20);
  return cond();
}

function field(info: string, name: string): number {
  return Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
}

test('clientEvictionLimit: bytes, a percentage of maxmemory, a 128 KB floor, off', () => {
  assert.equal(clientEvictionLimit(0, 1 << 30), 0);
  assert.equal(clientEvictionLimit(1 << 20, 0), 1 << 20);
  assert.equal(clientEvictionLimit(1000, 0), 128 * 1024);
  assert.equal(clientEvictionLimit(-10, 100 << 20), 10 << 20);
  assert.equal(clientEvictionLimit(-10, 0), 0, 'a percentage of no limit is no limit');
});

test('maxmemory-clients closes the client over the limit, spares NO-EVICT clients, counts evicted_clients', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-client-eviction-'));
  dirs.push(dir);
  const logfile = join(dir, 'amber.log');
  const s = await startServer({ log: true, directives: { save: '', dir, logfile, 'maxmemory-clients': '128kb' } });
  const c = await RawClient.connect(s.port);
  try {
    // this test's own connection must survive the second part, where everything evictable goes
    assert.equal(await c.call('CLIENT', 'NO-EVICT', 'on'), '+OK\r\n');
    const small = await bigQuery(s.port, 10_000);
    const big = await bigQuery(s.port, 400_000);
    assert.ok(await waitFor(big.closed), 'the client holding 400 KB was evicted');
    assert.equal(small.closed(), false, 'the small one stays: the total is under the limit again');
    assert.equal(field(await c.call('INFO', 'stats'), 'evicted_clients'), 1);
    // evicted once over the limit, before all 400 KB arrived (the check runs every 64 KB of traffic)
    assert.match(readFileSync(logfile, 'latin1'), /Evicting client: id=\d+ addr=127\.0\.0\.1:\d+ .*qbuf=\d{6} /);
    // a NO-EVICT client over the limit stays; nothing else can go: Redis's warning
    const kept = await bigQuery(s.port, 400_000, true);
    assert.ok(await waitFor(() => /Over client maxmemory after evicting all evictable clients/.test(readFileSync(logfile, 'latin1'))));
    assert.equal(kept.closed(), false);
    // (the server closed it before logging; the close reaches this side a moment later)
    assert.ok(await waitFor(small.closed), 'the evictable client went first');
    assert.equal(field(await c.call('INFO', 'stats'), 'evicted_clients'), 2);
    small.sock.destroy();
    kept.sock.destroy();
    assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
    assert.equal(field(await c.call('INFO', 'stats'), 'evicted_clients'), 0);
  } finally {
    c.close();
    await s.close();
  }
});

test('a client growing its query buffer past the limit is evicted between cron ticks, once enough traffic has come in', async () => {
  const s = await startServer({ directives: { save: '', 'maxmemory-clients': '128kb' } });
  // no cron at all: only the traffic-driven check can evict (Redis checks before every command)
  // (cronTimer is private: a test reaching into the server, on purpose)
  clearInterval((s.server as unknown as { cronTimer: NodeJS.Timeout }).cronTimer);
  try {
    const big = await bigQuery(s.port, 1_000_000);
    assert.ok(await waitFor(big.closed), 'the client holding 1 MB was evicted without a cron tick');
    const c = await RawClient.connect(s.port);
    assert.equal(field(await c.call('INFO', 'stats'), 'evicted_clients'), 1);
    c.close();
  } finally {
    await s.close();
  }
});

test('redis-server evicts the same client in the same scenario', { skip: !redisAvailable() && NO_REDIS }, async () => {
  const s = await startServer({ directives: { save: '', 'maxmemory-clients': '128kb' } });
  const r = await startRedis(['--maxmemory-clients', '128kb']);
  try {
    for (const port of [s.port, r.port]) {
      const big = await bigQuery(port, 400_000);
      const small = await bigQuery(port, 1_000);
      assert.ok(await waitFor(big.closed), `port ${port}: the big client was evicted`);
      assert.equal(small.closed(), false, `port ${port}: the small one stays`);
      const c = await RawClient.connect(port);
      assert.equal(field(await c.call('INFO', 'stats'), 'evicted_clients'), 1, `port ${port}`);
      c.close();
      small.sock.destroy();
    }
  } finally {
    await s.close();
    await r.close();
  }
});
