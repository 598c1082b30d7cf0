/**
 * Group commit under `appendfsync always` (issue 6): no reply leaves before an fdatasync that
 * began after its effect was written has completed, including replies to reads of data written
 * by another client; the next turn's commands run (and their own fdatasync starts) while the
 * previous turn's fdatasync is still in flight.
 *
 * SIGKILL keeps the page cache, so the crash tests cannot see a reply released before its sync:
 * this test observes the syncs themselves. AofWriter.fdatasync is wrapped to delay each sync by a
 * random 1-15 ms (so they overlap and complete out of order) and to record the file size when it
 * was requested: once it completes, everything below that size is on disk.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, fdatasync, fstatSync, existsSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAmber, RawClient } from '../helpers/servers.js';
import { AofWriter } from '../../src/persistence/aof/writer.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('appendfsync always: replies wait for the fdatasync covering their data; syncs overlap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-aof-gc-'));
  dirs.push(dir);
  let durableUpTo = 0;
  let inflight = 0;
  let maxInflight = 0;
  let syncs = 0;
  const real = AofWriter.fdatasync;
  const realInline = AofWriter.syncInline;
  // the thread pool path, whatever the CPU count of this machine (the inline one is tested below)
  AofWriter.syncInline = false;
  AofWriter.fdatasync = (fd, cb) => {
    const size = fstatSync(fd).size;
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    setTimeout(() => {
      fdatasync(fd, (err) => {
        inflight--;
        syncs++;
        if (!err) durableUpTo = Math.max(durableUpTo, size);
        cb(err);
      });
    }, 1 + Math.random() * 14);
  };
  const s = await startAmber({ dir, appendonly: 'yes', appendfsync: 'always', 'aof-use-rdb-preamble': 'no' });
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  /** end offset of the first occurrence of `text` in the incr file, or -1 */
  const endOf = (text: string): number => {
    const at = readFileSync(incr).indexOf(text, 0, 'latin1');
    return at < 0 ? -1 : at + text.length;
  };
  let checked = 0;
  const assertDurable = (text: string, what: string): void => {
    // runs in the same macrotask as the reply's arrival: no sync completion can slip in between
    const end = endOf(text);
    assert.ok(end > 0, `${what}: ${text} is not in the AOF`);
    assert.ok(end <= durableUpTo, `${what}: reply received while ${text} (ends at ${end}) is beyond the synced ${durableUpTo}`);
    checked++;
  };
  try {
    const deadline = Date.now() + 4000;
    const writers = [0, 1, 2, 3].map(async (i) => {
      const c = await RawClient.connect(s.port);
      try {
        for (let n = 0; n < 150 && Date.now() < deadline; n++) {
          if (i === 3) {
            // a pipelining client: several commands in one turn, one sync for all
            const vals = [0, 1, 2, 3, 4].map((k) => `v-${i}-${n}-${k}`);
            const replies = await c.pipeline(vals.map((v, k) => ['SET', `key:${i}:${k}`, v]));
            assert.deepEqual(replies, vals.map(() => '+OK\r\n'));
            for (const v of vals) assertDurable(v, 'SET');
          } else {
            const v = `v-${i}-${n}`;
            assert.equal(await c.call('SET', `key:${i}`, v), '+OK\r\n');
            assertDurable(v, 'SET');
          }
        }
      } finally {
        c.close();
      }
    });
    // a reader of the others' keys: what it is shown must already be on disk
    const reader = (async () => {
      const c = await RawClient.connect(s.port);
      try {
        while (Date.now() < deadline) {
          const r = await c.call('GET', `key:${Math.floor(Math.random() * 3)}`);
          if (r !== '$-1\r\n') assertDurable(r.split('\r\n')[1]!, 'GET');
          await new Promise((x) => setImmediate(x));
        }
      } finally {
        c.close();
      }
    })();
    await Promise.all([...writers, reader]);
  } finally {
    AofWriter.fdatasync = real;
    AofWriter.syncInline = realInline;
    await s.close();
  }
  assert.ok(checked > 300, `only ${checked} replies checked`);
  assert.ok(maxInflight >= 2, `fdatasyncs never overlapped (max in flight ${maxInflight})`);
  assert.ok(syncs < checked, `${syncs} syncs for ${checked} writes: no group commit`);
});

test('appendfsync always, inline sync (machines with fewer than 3 CPUs): the turn syncs before its replies, one sync per turn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-aof-gc-'));
  dirs.push(dir);
  let durableUpTo = 0;
  let syncs = 0;
  const realSync = AofWriter.fdatasyncSync;
  const realAsync = AofWriter.fdatasync;
  const realInline = AofWriter.syncInline;
  AofWriter.syncInline = true;
  AofWriter.fdatasyncSync = (fd) => {
    const size = fstatSync(fd).size;
    realSync(fd);
    syncs++;
    durableUpTo = Math.max(durableUpTo, size);
  };
  // the thread pool path must not be taken for these writes
  let asyncSyncs = 0;
  AofWriter.fdatasync = (fd, cb) => {
    asyncSyncs++;
    realAsync(fd, cb);
  };
  const s = await startAmber({ dir, appendonly: 'yes', appendfsync: 'always', 'aof-use-rdb-preamble': 'no' });
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  let checked = 0;
  const assertDurable = (text: string): void => {
    const at = readFileSync(incr).indexOf(text, 0, 'latin1');
    assert.ok(at >= 0, `${text} is not in the AOF`);
    assert.ok(at + text.length <= durableUpTo, `reply received while ${text} is beyond the synced ${durableUpTo}`);
    checked++;
  };
  try {
    const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(s.port)));
    for (let n = 0; n < 60; n++) {
      // four clients' commands arrive together: they share one turn and one sync
      await Promise.all(
        clients.map(async (c, i) => {
          const v = `inline-${i}-${n}`;
          assert.equal(await c.call('SET', `key:${i}`, v), '+OK\r\n');
          assertDurable(v);
        }),
      );
    }
    // a pipeline's replies too
    const vals = [0, 1, 2, 3, 4].map((k) => `piped-${k}`);
    assert.deepEqual(await clients[0]!.pipeline(vals.map((v, k) => ['SET', `p:${k}`, v])), vals.map(() => '+OK\r\n'));
    for (const v of vals) assertDurable(v);
    for (const c of clients) c.close();
  } finally {
    AofWriter.fdatasyncSync = realSync;
    AofWriter.fdatasync = realAsync;
    AofWriter.syncInline = realInline;
    await s.close();
  }
  assert.equal(checked, 245);
  assert.ok(syncs < checked, `${syncs} syncs for ${checked} writes: no group commit`);
  assert.equal(asyncSyncs, 0, 'a write was synced on the thread pool');
});

test('appendfsync everysec: writes wait behind a running fsync for up to 2 s, then go out (aof_delayed_fsync)', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-aof-gc-'));
  dirs.push(dir);
  let syncStarted = 0;
  const real = AofWriter.fdatasync;
  // the first background fsync takes 3.5 s, as on a disk busy with something else
  AofWriter.fdatasync = (fd, cb) => {
    const first = syncStarted === 0;
    syncStarted = syncStarted || Date.now();
    setTimeout(() => fdatasync(fd, cb), first ? 3500 : 0);
  };
  const s = await startAmber({ dir, appendonly: 'yes', appendfsync: 'everysec', 'aof-use-rdb-preamble': 'no' });
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  const inFile = (v: string): boolean => readFileSync(incr, 'latin1').includes(v);
  const c = await RawClient.connect(s.port);
  try {
    assert.equal(await c.call('SET', 'k', 'before-sync'), '+OK\r\n');
    assert.ok(inFile('before-sync'), 'written at once while no fsync runs');
    for (let i = 0; i < 40 && syncStarted === 0; i++) await new Promise((x) => setTimeout(x, 50));
    assert.ok(syncStarted > 0, 'the everysec fsync started');
    assert.equal(await c.call('SET', 'k', 'postponed'), '+OK\r\n');
    assert.ok(!inFile('postponed'), 'postponed while the fsync runs');
    // keep writing: after 2 s of postponement the buffer is written anyway, before the fsync ends
    let n = 0;
    while (!inFile('postponed') && Date.now() - syncStarted < 3300) {
      await c.call('SET', 'other', String(n++));
      await new Promise((x) => setTimeout(x, 50));
    }
    assert.ok(inFile('postponed'), 'written after 2 s although the fsync still runs');
    assert.ok(Date.now() - syncStarted >= 1900, 'not before about 2 s');
    assert.match(await c.call('INFO', 'persistence'), /aof_delayed_fsync:1\r\n/);
  } finally {
    c.close();
    await s.close();
    AofWriter.fdatasync = real;
  }
});

test('an fsync error under appendfsync always stops an embedded server, which closes its AOF file so that the host can start again on the same dir', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-aof-gc-'));
  dirs.push(dir);
  const realSync = AofWriter.fdatasyncSync;
  const realInline = AofWriter.syncInline;
  AofWriter.syncInline = true;
  let failSyncs = false;
  AofWriter.fdatasyncSync = (fd) => {
    if (failSyncs) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5 });
    realSync(fd);
  };
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  /** descriptors of this process open on the incr file (Linux's /proc; null elsewhere) */
  const openOnIncr = (): number | null => {
    if (!existsSync('/proc/self/fd')) return null;
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) === incr) n++;
      } catch {
        // closed meanwhile (the readdir's own descriptor)
      }
    }
    return n;
  };
  try {
    const s = await startAmber({ dir, save: '', appendonly: 'yes', appendfsync: 'always', 'aof-use-rdb-preamble': 'no' });
    let exitCode: number | undefined;
    const exited = new Promise<void>((r) => {
      s.server.onExit = (code) => {
        exitCode = code;
        r();
      };
    });
    const c = await RawClient.connect(s.port);
    assert.equal(await c.call('SET', 'acked', '1'), '+OK\r\n');
    if (openOnIncr() !== null) assert.equal(openOnIncr(), 1, 'the writer holds the incr file open');
    // a background save under way (slowed to ~2 s) is stopped too, and its temp file removed
    await c.pipeline(Array.from({ length: 200 }, (_, i) => ['SET', `k${i}`, 'v']));
    assert.equal(await c.call('CONFIG', 'SET', 'rdb-key-save-delay', '10000'), '+OK\r\n');
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    for (let i = 0; i < 100 && !readdirSync(dir).some((f) => f.startsWith('temp-')); i++) await new Promise((x) => setTimeout(x, 10));
    assert.ok(readdirSync(dir).some((f) => f.startsWith('temp-')), 'the save has started its temp file');
    failSyncs = true;
    const r = await c.call('SET', 'lost', '2').then((x) => x, (e: Error) => e);
    assert.ok(r instanceof Error && /connection closed/.test(r.message), `the unsynced SET got ${String(r)}`);
    await exited;
    assert.equal(exitCode, 1);
    if (openOnIncr() !== null) assert.equal(openOnIncr(), 0, 'the AOF file is still open after onExit');
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), [], 'the save\'s temp file is left after onExit');
    await s.close();
    failSyncs = false;
    // the host starts a server on the same files: the acknowledged write is there
    const s2 = await startAmber({ dir, save: '', appendonly: 'yes', appendfsync: 'always', 'aof-use-rdb-preamble': 'no' });
    const c2 = await RawClient.connect(s2.port);
    assert.equal(await c2.call('GET', 'acked'), '$1\r\n1\r\n');
    c2.close();
    await s2.close();
  } finally {
    AofWriter.fdatasyncSync = realSync;
    AofWriter.syncInline = realInline;
  }
});
