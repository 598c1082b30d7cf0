/**
 * Server commands through real clients (ioredis, node-redis): INFO values, SLOWLOG, MONITOR,
 * TIME, DEBUG SLEEP / SET-ACTIVE-EXPIRE, SHUTDOWN in a library server (refused by a hook, then
 * accepted), and the INFO provider API the persistence layers use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startAmber, RawClient } from '../helpers/servers.js';
import { registerInfoProvider, registerInfoSection, infoSection } from '../../src/server/info.js';
import { LatencyHistogram } from '../../src/server/latency-histogram.js';
import { withAmber } from '../helpers/clients.js';

/** No RDB save points: these servers must not write dump.rdb into the working directory on close. */
const NO_SAVE = { save: '' };

const env = withAmber({ directives: NO_SAVE });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ioredis(port: number, opts: Record<string, unknown> = {}): Redis {
  return new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, ...opts });
}

function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

test('INFO values follow the server state (ioredis)', async () => {
  const r = ioredis(env.amber.port);
  try {
    await r.flushall().catch(() => undefined);
    const before = parseInfo(await r.info('stats'));
    await r.set('info:a', '1');
    await r.set('info:b', '2', 'EX', 1000);
    await r.get('info:a');
    await r.get('info:missing');
    await r.call('NOSUCH').catch(() => undefined);
    const info = parseInfo(await r.info('everything'));
    assert.equal(info.get('redis_version'), '7.0.15');
    assert.equal(info.get('tcp_port'), String(env.amber.port));
    assert.equal(info.get('role'), 'master');
    assert.equal(info.get('process_id'), String(process.pid));
    assert.ok(Number(info.get('used_memory')) > 0);
    assert.ok(Number(info.get('used_memory_rss')) > 0);
    assert.ok(Number(info.get('connected_clients')) >= 1);
    assert.equal(info.get('maxclients'), '10000');
    assert.ok(Number(info.get('total_commands_processed')) > Number(before.get('total_commands_processed')));
    assert.equal(Number(info.get('keyspace_hits')) - Number(before.get('keyspace_hits')), 1);
    assert.equal(Number(info.get('keyspace_misses')) - Number(before.get('keyspace_misses')), 1);
    assert.match(info.get('errorstat_ERR') ?? '', /^count=\d+$/);
    assert.match(info.get('cmdstat_set') ?? '', /^calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/);
    assert.match(info.get('db0') ?? '', /^keys=2,expires=1,avg_ttl=\d+$/);
    assert.ok(Number(info.get('db0')!.split('avg_ttl=')[1]) > 990000);
    assert.equal(info.get('amber_version'), '0.1.0');
    assert.match(info.get('used_cpu_user') ?? '', /^\d+\.\d{6}$/);
  } finally {
    r.disconnect();
  }
});

test('INFO through node-redis in RESP3 (verbatim string)', async () => {
  const c = createClient({ socket: { port: env.amber.port, host: '127.0.0.1' }, RESP: 3 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    const text = String(await c.info('server'));
    assert.match(text, /^# Server\r\nredis_version:7\.0\.15\r\n/);
    assert.equal(String(await c.info('nosuchsection')), '');
  } finally {
    await c.quit();
  }
});

test('registerInfoProvider and registerInfoSection extend INFO', async () => {
  registerInfoProvider('persistence', (_server, s) => {
    s.set('rdb_saves', 42);
    s.set('aof_current_size', 7);
  }, env.amber.server);
  registerInfoSection('amberdemo', 'Amberdemo', (_server, s) => { s.set('demo_field', 'x'); }, { server: env.amber.server });
  const r = ioredis(env.amber.port);
  try {
    const p = await r.info('persistence');
    assert.match(p, /\r\nrdb_saves:42\r\n/);
    assert.match(p, /\r\naof_current_size:7\r\n$/);
    assert.match(await r.info('amberdemo'), /^# Amberdemo\r\ndemo_field:x\r\n$/);
    // Amber's own sections behave like module sections: in INFO everything, not in INFO all
    assert.match(await r.info('everything'), /\r\n# Amberdemo\r\ndemo_field:x\r\n$/);
    assert.doesNotMatch(await r.info('all'), /Amberdemo/);
    assert.doesNotMatch(await r.info(), /Amberdemo/);
    assert.equal(infoSection(env.amber.server, 'persistence')?.get('rdb_saves'), '42');
  } finally {
    r.disconnect();
  }
});

test('SLOWLOG through ioredis: entries, client name and address, RESET', async () => {
  const r = ioredis(env.amber.port, { connectionName: 'slowclient' });
  try {
    await r.config('SET', 'slowlog-log-slower-than', '0');
    await r.slowlog('RESET');
    await r.set('sl:x', 'y');
    const entries = await r.slowlog('GET', '5') as Array<[number, number, number, string[], string, string]>;
    assert.ok(entries.length >= 1);
    const [id, time, duration, argv, addr, name] = entries[0]!;
    assert.ok(id >= 0);
    assert.ok(Math.abs(time - Date.now() / 1000) < 5);
    assert.ok(duration >= 0);
    assert.deepEqual(argv, ['set', 'sl:x', 'y']);
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    assert.equal(name, 'slowclient');
    await r.config('SET', 'slowlog-max-len', '2');
    for (let i = 0; i < 5; i++) await r.ping();
    assert.equal(await r.slowlog('LEN'), 2);
    await r.config('SET', 'slowlog-log-slower-than', '-1');
    await r.slowlog('RESET');
    await r.ping();
    assert.equal(await r.slowlog('LEN'), 0);
  } finally {
    await r.config('SET', 'slowlog-log-slower-than', '10000').catch(() => undefined);
    await r.config('SET', 'slowlog-max-len', '128').catch(() => undefined);
    r.disconnect();
  }
});

test('DEBUG SLEEP blocks the whole server, fractional seconds', async () => {
  const a = ioredis(env.amber.port);
  const b = ioredis(env.amber.port);
  try {
    await Promise.all([a.ping(), b.ping()]);
    const t0 = Date.now();
    const sleeping = a.call('DEBUG', 'SLEEP', '0.3');
    await sleep(20);
    await b.ping();
    assert.ok(Date.now() - t0 >= 280, 'the other client waited for the sleep');
    assert.equal(await sleeping, 'OK');
  } finally {
    a.disconnect();
    b.disconnect();
  }
});

test('DEBUG SET-ACTIVE-EXPIRE 0 leaves expired keys in place until read', async () => {
  const r = ioredis(env.amber.port, { db: 9 });
  try {
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await r.set('ae:k', 'v', 'PX', 30);
    await sleep(250);
    assert.match(await r.info('keyspace'), /\r\ndb9:keys=1,expires=1,/);
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    const t0 = Date.now();
    while (/\r\ndb9:/.test(await r.info('keyspace'))) {
      assert.ok(Date.now() - t0 < 3000, 'active expiry resumed');
      await sleep(50);
    }
  } finally {
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1').catch(() => undefined);
    r.disconnect();
  }
});

test('MONITOR through ioredis: commands of other clients with db and address', async () => {
  const r = ioredis(env.amber.port);
  const monitor = await r.monitor();
  const seen: Array<{ args: string[]; source: string; database: string }> = [];
  monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => seen.push({ args, source, database }));
  const w = ioredis(env.amber.port, { db: 2 });
  try {
    await w.set('mon:k', 'va"l');
    await w.call('AUTH', 'default', 'secret').catch(() => undefined);
    await w.call('CONFIG', 'GET', 'maxclients');
    await w.echo('done');
    const t0 = Date.now();
    const named = (n: string) => seen.find((s) => s.args[0]!.toLowerCase() === n);
    while (!named('echo')) {
      assert.ok(Date.now() - t0 < 3000, 'MONITOR lines arrive');
      await sleep(20);
    }
    const set = named('set')!;
    assert.deepEqual(set.args.slice(1), ['mon:k', 'va"l']);
    assert.equal(set.database, '2');
    assert.match(set.source, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(named('auth')!.args.slice(1), ['(redacted)', '(redacted)']);
    assert.equal(named('config'), undefined, 'admin commands are not shown');
  } finally {
    monitor.disconnect();
    r.disconnect();
    w.disconnect();
  }
});

test('MONITOR through node-redis', async () => {
  const m = createClient({ socket: { port: env.amber.port, host: '127.0.0.1' } });
  const w = createClient({ socket: { port: env.amber.port, host: '127.0.0.1' } });
  m.on('error', () => undefined);
  w.on('error', () => undefined);
  await m.connect();
  await w.connect();
  try {
    const lines: string[] = [];
    await m.monitor((line: string) => lines.push(line));
    await w.set('nr:mon', 'x');
    const t0 = Date.now();
    while (!lines.some((l) => l.includes('"nr:mon"'))) {
      assert.ok(Date.now() - t0 < 3000);
      await sleep(20);
    }
    assert.match(lines.find((l) => l.includes('"nr:mon"'))!, /^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "nr:mon" "x"$/);
  } finally {
    await w.quit();
    m.destroy();
  }
});

test('TIME is close to the local clock', async () => {
  const r = ioredis(env.amber.port);
  try {
    const [sec, usec] = await r.time() as unknown as [string, string];
    const t = Number(sec) * 1000 + Number(usec) / 1000;
    assert.ok(Math.abs(t - Date.now()) < 2000);
    assert.ok(Number(usec) >= 0 && Number(usec) < 1e6);
  } finally {
    r.disconnect();
  }
});

test('SHUTDOWN: refused by a failing hook, then closes the server and calls onExit', async () => {
  const s = await startAmber(NO_SAVE);
  let refuse = true;
  s.server.shutdownHooks.push(() => !refuse);
  let exitCode: number | null = null;
  s.server.onExit = (code) => { exitCode = code; };
  const c = await RawClient.connect(s.port);
  try {
    assert.equal(await c.call('SHUTDOWN'), '-ERR Errors trying to SHUTDOWN. Check logs.\r\n');
    assert.equal(await c.call('PING'), '+PONG\r\n');
    assert.match(await c.call('INFO', 'errorstats'), /errorstat_ERR:count=1/);
    refuse = false;
    c.sock.write(RawClient.encode(['SHUTDOWN', 'NOSAVE']));
    const t0 = Date.now();
    while (!c.closed) {
      assert.ok(Date.now() - t0 < 3000, 'connection closed by SHUTDOWN');
      await sleep(20);
    }
    assert.equal(exitCode, 0);
    await assert.rejects(RawClient.connect(s.port));
  } finally {
    c.close();
    await s.close();
  }
});

test('latency histogram reports hdr_histogram bucket values, INFO latencystats follows config', async () => {
  // values seen in redis-server 7.0.15 output: 2us -> 2.007, 4us -> 4.015, 1105us -> 1105.919
  for (const [ns, want] of [[2000, 2007], [4000, 4015], [1105000, 1105919], [100, 100], [255, 255], [1, 1], [0, 1]] as const) {
    const h = new LatencyHistogram();
    h.record(ns);
    assert.equal(h.valueAtPercentile(50), want, `value ${ns}`);
  }
  const h = new LatencyHistogram();
  for (let i = 1; i <= 100; i++) h.record(i * 1000);
  assert.equal(h.valueAtPercentile(50), 50175);
  assert.equal(h.valueAtPercentile(99), 99327);
  assert.equal(h.valueAtPercentile(100), 100351);
  const r = ioredis(env.amber.port);
  try {
    await r.config('SET', 'latency-tracking-info-percentiles', '50 99.99 0');
    await r.echo('x');
    assert.match(await r.info('latencystats'), /\r\nlatency_percentiles_usec_echo:p50=\d+\.\d{3},p99\.99=\d+\.\d{3},p0=\d+\.\d{3}\r\n/);
    await r.config('SET', 'latency-tracking', 'no');
    assert.equal(await r.info('latencystats'), '# Latencystats\r\n');
  } finally {
    await r.config('SET', 'latency-tracking', 'yes').catch(() => undefined);
    await r.config('SET', 'latency-tracking-info-percentiles', '50 99 99.9').catch(() => undefined);
    r.disconnect();
  }
});
