/**
 * Connections through real clients (ioredis, node-redis): HELLO 3, AUTH with requirepass, CLIENT
 * SETNAME/GETNAME/ID/LIST/KILL/REPLY/PAUSE/UNPAUSE/UNBLOCK, RESET, maxclients, the idle timeout,
 * protected mode for non-loopback peers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startAmber, RawClient } from '../helpers/servers.js';
import { withAmber } from '../helpers/clients.js';

/** No RDB save points: these servers must not write dump.rdb into the working directory on close. */
const NO_SAVE = { save: '' };

const env = withAmber({ directives: NO_SAVE });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ioredis(port: number, opts: Record<string, unknown> = {}): Redis {
  return new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false, ...opts });
}

/** Waits until `cond` holds, polling every 20 ms, for at most `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

function listLines(text: string): Array<Record<string, string>> {
  return text.split('\n').filter((l) => l).map((l) => Object.fromEntries(l.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
}

test('node-redis over RESP3: HELLO 3, name, commands, CLIENT INFO resp=3', async () => {
  const c = createClient({ socket: { port: env.amber.port, host: '127.0.0.1' }, RESP: 3, name: 'nr3' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    assert.equal(await c.ping(), 'PONG');
    const hello = await c.sendCommand(['HELLO']) as Record<string, unknown> | Map<string, unknown>;
    const get = (k: string): unknown => (hello instanceof Map ? hello.get(k) : hello[k]);
    assert.equal(get('server'), 'redis');
    assert.equal(get('version'), '7.0.15');
    assert.equal(get('proto'), 3);
    assert.equal(get('mode'), 'standalone');
    assert.equal(get('role'), 'master');
    assert.equal(await c.sendCommand(['CLIENT', 'GETNAME']), 'nr3');
    const info = String(await c.sendCommand(['CLIENT', 'INFO']));
    assert.match(info, / name=nr3 /);
    assert.match(info, / resp=3\n$/);
  } finally {
    await c.quit();
  }
});

test('ioredis: connectionName, CLIENT ID/GETNAME/LIST, SETNAME errors', async () => {
  const r = ioredis(env.amber.port, { connectionName: 'io-one' });
  try {
    assert.equal(await r.client('GETNAME'), 'io-one');
    const id = await r.client('ID') as number;
    assert.ok(id > 0);
    const list = listLines(await r.client('LIST') as string);
    const me = list.find((l) => l.id === String(id))!;
    assert.equal(me.name, 'io-one');
    assert.equal(me.cmd, 'client|list');
    assert.equal(me.flags, 'N');
    await assert.rejects(r.client('SETNAME', 'has space'), /Client names cannot contain spaces/);
    assert.equal(await r.client('SETNAME', ''), 'OK');
    assert.equal(await r.client('GETNAME'), null);
    const byId = listLines(await r.client('LIST', 'ID', String(id), '999999') as string);
    assert.equal(byId.length, 1);
  } finally {
    r.disconnect();
  }
});

test('CLIENT KILL by ID, ADDR, old form, SKIPME, TYPE', async () => {
  const killer = ioredis(env.amber.port);
  const victims = [ioredis(env.amber.port), ioredis(env.amber.port), ioredis(env.amber.port)];
  try {
    const ids = await Promise.all(victims.map((v) => v.client('ID') as Promise<number>));
    const closed = victims.map((v) => new Promise<void>((res) => v.once('end', () => res())));
    assert.equal(await killer.client('KILL', 'ID', String(ids[0])), 1);
    await closed[0];
    const list = listLines(await killer.client('LIST') as string);
    const addr1 = list.find((l) => l.id === String(ids[1]))!.addr!;
    assert.equal(await killer.client('KILL', addr1), 'OK');
    await closed[1];
    await assert.rejects(killer.client('KILL', addr1), /No such client/);
    const addr2 = list.find((l) => l.id === String(ids[2]))!.addr!;
    assert.equal(await killer.client('KILL', 'ADDR', addr2, 'SKIPME', 'yes'), 1);
    await closed[2];
    // SKIPME yes (the default) spares the caller
    const myId = await killer.client('ID') as number;
    assert.equal(await killer.client('KILL', 'ID', String(myId)), 0);
    assert.equal(await killer.client('KILL', 'TYPE', 'master'), 0);
    assert.equal(await killer.ping(), 'PONG');
  } finally {
    killer.disconnect();
    for (const v of victims) v.disconnect();
  }
});

test('CLIENT KILL of oneself with SKIPME no closes after the reply', async () => {
  const c = await RawClient.connect(env.amber.port);
  const id = (await c.call('CLIENT', 'ID')).slice(1, -2);
  assert.equal(await c.call('CLIENT', 'KILL', 'ID', id, 'SKIPME', 'no'), ':1\r\n');
  await until(() => c.closed);
});

test('CLIENT PAUSE WRITE holds writes only; UNPAUSE releases them', async () => {
  const admin = ioredis(env.amber.port);
  const w = ioredis(env.amber.port);
  try {
    await w.set('pause:k', '1');
    assert.equal(await admin.client('PAUSE', '5000', 'WRITE'), 'OK');
    const t0 = Date.now();
    assert.equal(await w.get('pause:k'), '1');
    assert.ok(Date.now() - t0 < 1000, 'reads are not paused');
    let done = false;
    const setP = w.set('pause:k', '2').then((v) => { done = true; return v; });
    await sleep(150);
    assert.equal(done, false, 'the write waits');
    const list = listLines(await admin.client('LIST') as string);
    assert.ok(list.some((l) => l.flags!.includes('b')), 'the held client shows the b flag');
    assert.equal(await admin.client('UNPAUSE'), 'OK');
    assert.equal(await setP, 'OK');
    assert.equal(await w.get('pause:k'), '2');
  } finally {
    admin.disconnect();
    w.disconnect();
  }
});

test('CLIENT PAUSE ALL holds every command until the timeout', async () => {
  const admin = ioredis(env.amber.port);
  const other = ioredis(env.amber.port);
  try {
    await other.ping();
    const t0 = Date.now();
    await admin.client('PAUSE', '300', 'ALL');
    assert.equal(await other.ping(), 'PONG');
    const waited = Date.now() - t0;
    assert.ok(waited >= 250, `PING waited ${waited} ms`);
    assert.equal(env.amber.server.pauseUntil, 0);
  } finally {
    admin.disconnect();
    other.disconnect();
  }
});

test('CLIENT PAUSE WRITE ends by itself and runs the held write once', async () => {
  const admin = ioredis(env.amber.port);
  const w = ioredis(env.amber.port);
  try {
    await w.del('pause:n');
    await admin.client('PAUSE', '200', 'WRITE');
    const t0 = Date.now();
    assert.equal(await w.incr('pause:n'), 1);
    assert.ok(Date.now() - t0 >= 150);
    assert.equal(await w.get('pause:n'), '1');
  } finally {
    admin.disconnect();
    w.disconnect();
  }
});

test('CLIENT UNBLOCK wakes a client blocked on keys, with TIMEOUT and ERROR', { skip: !amberHas('blpop') }, async () => {
  const admin = ioredis(env.amber.port);
  const b = ioredis(env.amber.port);
  try {
    const id = await b.client('ID') as number;
    const p1 = b.blpop('unblock:none', 0);
    await until(async () => listLines(await admin.client('LIST') as string).some((l) => l.id === String(id) && l.flags!.includes('b')));
    assert.equal(await admin.client('UNBLOCK', String(id)), 1);
    assert.equal(await p1, null);
    const p2 = b.blpop('unblock:none', 0).then(() => null, (e: Error) => e);
    await until(async () => listLines(await admin.client('LIST') as string).some((l) => l.id === String(id) && l.flags!.includes('b')));
    assert.equal(await admin.client('UNBLOCK', String(id), 'ERROR'), 1);
    assert.match(String(await p2), /UNBLOCKED client unblocked via CLIENT UNBLOCK/);
    assert.equal(await admin.client('UNBLOCK', String(id)), 0);
  } finally {
    admin.disconnect();
    b.disconnect();
  }
});

function amberHas(cmd: string): boolean {
  // the table is static: any server built from this checkout has the same commands
  return env.amber?.server.commands.has(cmd) ?? true;
}

test('RESET through node-redis and raw: back to db 0, RESP2, no name', async () => {
  const c = await RawClient.connect(env.amber.port);
  try {
    await c.call('HELLO', '3', 'SETNAME', 'resetme');
    await c.call('SELECT', '4');
    assert.equal(await c.call('RESET'), '+RESET\r\n');
    const info = await c.call('CLIENT', 'INFO');
    assert.match(info, / name= /);
    assert.match(info, / db=0 /);
    assert.match(info, / resp=2\r?\n/);
  } finally {
    c.close();
  }
});

test('maxclients: the extra connection gets the error and is counted', async () => {
  const s = await startAmber({ ...NO_SAVE, maxclients: 2 });
  const a = await RawClient.connect(s.port);
  const b = await RawClient.connect(s.port);
  try {
    await a.call('PING');
    await b.call('PING');
    const third = await RawClient.connect(s.port);
    const [err] = await third.read(1);
    assert.equal(err, '-ERR max number of clients reached\r\n');
    await until(() => third.closed);
    assert.match(await a.call('INFO', 'stats'), /\r\nrejected_connections:1\r\n/);
    b.close();
    await until(() => s.server.clients.size === 1);
    const fourth = await RawClient.connect(s.port);
    assert.equal(await fourth.call('PING'), '+PONG\r\n');
    fourth.close();
  } finally {
    a.close();
    b.close();
    await s.close();
  }
});

test('timeout closes idle clients but not subscribers or MONITOR clients', async () => {
  const s = await startAmber({ ...NO_SAVE, timeout: 1 });
  const idle = await RawClient.connect(s.port);
  const sub = await RawClient.connect(s.port);
  const mon = await RawClient.connect(s.port);
  const busy = await RawClient.connect(s.port);
  try {
    await idle.call('PING');
    await sub.call('SUBSCRIBE', 'ch');
    await mon.call('MONITOR');
    const t0 = Date.now();
    const keepBusy = setInterval(() => { void busy.call('PING').catch(() => undefined); }, 200);
    await until(() => idle.closed, 4000);
    clearInterval(keepBusy);
    assert.ok(Date.now() - t0 >= 900, 'closed after about the timeout');
    assert.equal(sub.closed, false);
    assert.equal(mon.closed, false);
    assert.equal(busy.closed, false);
  } finally {
    for (const c of [idle, sub, mon, busy]) c.close();
    await s.close();
  }
});

test('requirepass: ioredis and node-redis authenticate; a client without it gets NOAUTH', async () => {
  const s = await startAmber({ ...NO_SAVE, requirepass: 'pw1' });
  const bad = ioredis(s.port, { enableReadyCheck: false });
  const good = ioredis(s.port, { password: 'pw1' });
  const nr = createClient({ socket: { port: s.port, host: '127.0.0.1' }, password: 'pw1', RESP: 3 });
  nr.on('error', () => undefined);
  try {
    await assert.rejects(bad.get('k'), /NOAUTH Authentication required/);
    assert.equal(await good.set('k', 'v'), 'OK');
    await nr.connect();
    assert.equal(await nr.get('k'), 'v');
    await assert.rejects(bad.auth('wrong'), /WRONGPASS invalid username-password pair or user is disabled/);
    assert.equal(await bad.auth('pw1'), 'OK');
    assert.equal(await bad.get('k'), 'v');
    assert.equal(await bad.auth('default', 'pw1'), 'OK');
  } finally {
    bad.disconnect();
    good.disconnect();
    await nr.quit().catch(() => undefined);
    await s.close();
  }
});

test('protected mode refuses non-loopback peers with the DENIED message', async () => {
  // Find a local non-loopback IPv4 address to connect from; skip when there is none.
  const os = await import('node:os');
  const addr = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!addr) return;
  const srv = await (await import('../../src/index.js')).startServer({ port: 0, bind: ['127.0.0.1', addr], directives: { ...NO_SAVE, 'protected-mode': 'yes' } });
  try {
    const net = await import('node:net');
    const data = await new Promise<string>((resolve, reject) => {
      const sock = net.connect({ port: srv.port, host: addr, localAddress: addr });
      let buf = '';
      sock.on('data', (d) => { buf += d.toString('latin1'); });
      sock.on('close', () => resolve(buf));
      sock.on('error', reject);
    });
    assert.ok(data.startsWith('-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.'), data);
    assert.ok(data.endsWith('4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n'));
    const lo = await RawClient.connect(srv.port);
    assert.equal(await lo.call('PING'), '+PONG\r\n');
    lo.close();
  } finally {
    await srv.close();
  }
});
