/**
 * The layers report their slow events to the latency monitor under Redis's names: the active
 * expire cycle (`expire-cycle`), maxmemory eviction (`eviction-cycle`), `appendfsync always`
 * fdatasyncs on either sync path (`aof-fsync-always`), the AOF's write() (`aof-write` and one of
 * its three classes) and a served blocked client (`command-unblocking`). Each test slows or
 * enlarges the work past a 1-2 ms threshold and reads LATENCY LATEST.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, fdatasync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAmber, RawClient } from '../helpers/servers.js';
import { decode, type Decoded } from '../helpers/resp.js';
import { AofWriter, type AofWriterEvents } from '../../src/persistence/aof/writer.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** LATENCY LATEST as event name -> [latest ms, all-time max ms]. */
async function latest(c: RawClient): Promise<Map<string, [number, number]>> {
  const rows = decode(await c.call('LATENCY', 'LATEST')) as Decoded[][];
  return new Map(rows.map((r) => [r[0] as string, [Number((r[2] as string).slice(1)), Number((r[3] as string).slice(1))]]));
}

/** Busy-waits `ms` on the event loop (a slow disk's fdatasync, seen from the caller). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

async function until(cond: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('expire-cycle and eviction-cycle: the cron and maxmemory report their long cycles', async () => {
  const s = await startAmber({ 'latency-monitor-threshold': '1' });
  const c = await RawClient.connect(s.port);
  try {
    // 40k keys expiring together: the active cycle runs up to its time limit deleting them
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    for (let b = 0; b < 40; b++) {
      await c.pipeline(Array.from({ length: 1000 }, (_, i) => ['SET', `e:${b}:${i}`, 'v', 'PX', '1']));
    }
    await new Promise((r) => setTimeout(r, 5));
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    await until(async () => (await c.call('DBSIZE')) === ':0\r\n', 'the active expire cycle');
    const afterExpire = await latest(c);
    assert.ok(afterExpire.has('expire-cycle'), [...afterExpire.keys()].join());
    assert.ok(afterExpire.get('expire-cycle')![1] >= 1);

    // 30k keys, then a limit they are far over, evicted in one unlimited cycle
    for (let b = 0; b < 30; b++) {
      await c.pipeline(Array.from({ length: 1000 }, (_, i) => ['SET', `m:${b}:${i}`, 'x'.repeat(100)]));
    }
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random');
    await c.call('CONFIG', 'SET', 'maxmemory-eviction-tenacity', '100');
    await c.call('CONFIG', 'SET', 'maxmemory', '1');
    await c.call('SET', 'trigger', '1');
    const afterEvict = await latest(c);
    assert.ok(afterEvict.has('eviction-cycle'), [...afterEvict.keys()].join());
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
  } finally {
    c.close();
    await s.close();
  }
});

test('aof-fsync-always: slow fdatasyncs on the inline and the thread pool path', async () => {
  const realSync = AofWriter.fdatasyncSync;
  const realAsync = AofWriter.fdatasync;
  const realInline = AofWriter.syncInline;
  AofWriter.fdatasyncSync = (fd) => {
    spin(4);
    realSync(fd);
  };
  AofWriter.fdatasync = (fd, cb) => setTimeout(() => fdatasync(fd, cb), 6);
  try {
    for (const inline of [true, false]) {
      AofWriter.syncInline = inline;
      const dir = mkdtempSync(join(tmpdir(), 'amber-latency-'));
      dirs.push(dir);
      const s = await startAmber({ dir, appendonly: 'yes', appendfsync: 'always', 'latency-monitor-threshold': '3' });
      const c = await RawClient.connect(s.port);
      try {
        assert.equal(await c.call('SET', 'k', 'v'), '+OK\r\n');
        const l = await latest(c);
        assert.ok(l.has('aof-fsync-always'), `inline=${inline}: ${[...l.keys()].join()}`);
        assert.ok(l.get('aof-fsync-always')![0] >= 3);
      } finally {
        c.close();
        await s.close();
      }
    }
  } finally {
    AofWriter.fdatasyncSync = realSync;
    AofWriter.fdatasync = realAsync;
    AofWriter.syncInline = realInline;
  }
});

test('the AOF writer times each write() and says whether an everysec fsync was running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-latency-'));
  dirs.push(dir);
  const wrote: Array<[number, boolean]> = [];
  const events: AofWriterEvents = {
    writeError: () => undefined, writeRecovered: () => undefined, fatal: () => undefined,
    wrote: (ms, pending) => wrote.push([ms, pending]),
  };
  const realAsync = AofWriter.fdatasync;
  let release: (() => void) | null = null;
  // an fsync that completes only when the test says so
  AofWriter.fdatasync = (fd, cb) => {
    release = () => fdatasync(fd, cb);
  };
  const w = new AofWriter(join(dir, 'x.aof'), 'everysec', events);
  try {
    w.feed(0, ['SET', 'a', '1']);
    w.flush();
    assert.equal(wrote.length, 1);
    assert.ok(wrote[0]![0] >= 0);
    assert.equal(wrote[0]![1], false);
    w.tick(); // the once-a-second fsync starts, and hangs
    assert.ok(w.fsyncInProgress);
    w.feed(0, ['SET', 'b', '2']);
    w.flush(true);
    assert.deepEqual(wrote.map((x) => x[1]), [false, true]);
  } finally {
    (release as (() => void) | null)?.();
    AofWriter.fdatasync = realAsync;
    await w.close();
  }
});

test('command-unblocking: serving a blocked client is timed', async () => {
  const s = await startAmber();
  // a threshold below any duration (CONFIG SET takes whole ms): every serve is recorded, as 0 ms
  s.server.latency.threshold = 1e-9;
  const c = await RawClient.connect(s.port);
  const blocked = await RawClient.connect(s.port);
  try {
    const reply = blocked.call('BLPOP', 'q', '0');
    await until(async () => /blocked_clients:1/.test(await c.call('INFO', 'clients')), 'the BLPOP to block');
    await c.call('LATENCY', 'RESET');
    assert.equal(await c.call('RPUSH', 'q', 'x'), ':1\r\n');
    assert.equal(await reply, '*2\r\n$1\r\nq\r\n$1\r\nx\r\n');
    const l = await latest(c);
    assert.ok(l.has('command-unblocking'), [...l.keys()].join());
    // RPUSH, flagged fast, is sampled as such
    assert.ok(l.has('fast-command'));
  } finally {
    c.close();
    blocked.close();
    await s.close();
  }
});
