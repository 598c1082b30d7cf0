/**
 * CONFIG SET leveldb yes|no at run time: the live data set is imported (in slices, while writes,
 * a SWAPDB and a FLUSHDB go on) and written through from then on; `leveldb no` stops writing and
 * closes the store. A restart from the store gives the keyspace as it was. Also: background
 * reclaim, MISCONF on a write error, -LOADING and the loading_* fields, SAVE/BGSAVE for export.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAmber, keyspaceDump, RawClient } from '../helpers/servers.js';
import { levelDbOf } from '../../src/persistence/leveldb/index.js';
import { Config, Server, quoteArg } from '../../src/index.js';

async function waitState(rc: RawClient, state: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if ((await rc.call('INFO', 'leveldb')).includes(`leveldb_state:${state}\r\n`)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`leveldb_state never became ${state}`);
}

test('CONFIG SET leveldb yes imports the live data set under writes; leveldb no stops; restarts agree', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-runtime-'));
  try {
    const s = await startAmber({ dir, save: '' });
    const rc = await RawClient.connect(s.port);
    const fill: string[][] = [];
    for (let i = 0; i < 20000; i++) fill.push(['SET', `k${i}`, `v${i}`]);
    for (let i = 0; i < 50; i++) fill.push(['HSET', `h${i}`, 'a', String(i), 'b', 'x'], ['RPUSH', `l${i}`, 'p', 'q', 'r'], ['ZADD', `z${i}`, String(i), 'm'], ['SADD', `s${i}`, 'x', 'y']);
    fill.push(['SELECT', '1'], ['SET', 'in1', 'one'], ['SELECT', '0']);
    await rc.pipeline(fill);
    assert.equal(await rc.call('CONFIG', 'SET', 'leveldb', 'yes'), '+OK\r\n');
    // writes while the import runs, including a SWAPDB (restarts the import) and changes to
    // keys already imported or not yet
    const during: string[][] = [];
    for (let i = 0; i < 3000; i++) during.push(['SET', `k${i * 7}`, `w${i}`], ['HSET', `h${i % 50}`, 'c', String(i)], ['LPUSH', `l${i % 50}`, String(i)]);
    during.push(['SWAPDB', '0', '2'], ['SELECT', '2'], ['DEL', 'k1'], ['SELECT', '0'], ['SET', 'new0', 'x']);
    await rc.pipeline(during);
    await waitState(rc, 'on');
    assert.equal(await rc.call('CONFIG', 'GET', 'leveldb'), '*2\r\n$7\r\nleveldb\r\n$3\r\nyes\r\n');
    await rc.pipeline([['HDEL', 'h3', 'a'], ['SELECT', '2'], ['ZINCRBY', 'z4', '10', 'm'], ['SELECT', '0']]);
    const beforeOff = await keyspaceDump(s.port, 3);
    assert.equal(await rc.call('CONFIG', 'SET', 'leveldb', 'no'), '+OK\r\n');
    await waitState(rc, 'off');
    await rc.call('SET', 'not-persisted', 'x');
    rc.close();
    await s.close();
    const s2 = await startAmber({ dir, save: '', leveldb: 'yes' });
    try {
      assert.equal(await keyspaceDump(s2.port, 3), beforeOff);
      const rc2 = await RawClient.connect(s2.port);
      // leveldb-sync changes at run time
      assert.equal(await rc2.call('CONFIG', 'SET', 'leveldb-sync', 'always'), '+OK\r\n');
      assert.equal(await rc2.call('SET', 'after', 'restart'), '+OK\r\n');
      assert.match(await rc2.call('INFO', 'leveldb'), /leveldb_sync:always/);
      rc2.close();
    } finally {
      await s2.close();
    }
    const s3 = await startAmber({ dir, save: '', leveldb: 'yes' });
    try {
      const rc3 = await RawClient.connect(s3.port);
      assert.equal(await rc3.call('GET', 'after'), '$7\r\nrestart\r\n');
      assert.equal(await rc3.call('EXISTS', 'not-persisted'), ':0\r\n');
      rc3.close();
    } finally {
      await s3.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('background reclaim removes the records of deleted collections and flushed databases', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-reclaim-'));
  try {
    const s = await startAmber({ dir, save: '', leveldb: 'yes', hz: '100' });
    const rc = await RawClient.connect(s.port);
    const cmds: string[][] = [];
    // a value longer than hash-max-listpack-value makes each a hashtable, stored as subkeys (a
    // listpack hash this small would be stored inline, with nothing to reclaim)
    for (let i = 0; i < 50; i++) cmds.push(['HSET', `h${i}`, ...Array.from({ length: 200 }, (_, j) => [`f${j}`, j === 0 ? 'v'.repeat(100) : 'v']).flat()]);
    await rc.pipeline(cmds);
    // a big hash deleted (O(1) records now, its 200 fields later), then a whole db flushed
    await rc.pipeline([['DEL', 'h0'], ['SET', 'keep', '1'], ['SELECT', '1'], ['SET', 'x', 'y'], ['SELECT', '0'], ['FLUSHDB']]);
    let info = '';
    for (let i = 0; i < 500; i++) {
      info = await rc.call('INFO', 'leveldb');
      if (/leveldb_garbage_versions:0\r\n/.test(info) && /leveldb_garbage_namespaces:0\r\n/.test(info) && /leveldb_reclaimed_records:[1-9]/.test(info)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(info, /leveldb_garbage_versions:0\r\n/);
    assert.match(info, /leveldb_garbage_namespaces:0\r\n/);
    const reclaimed = Number(/leveldb_reclaimed_records:(\d+)/.exec(info)![1]);
    // 49 hashes' metadata (h0 was deleted before; `keep` never reached the store, flushed in the
    // same turn) and 50 x 200 fields
    assert.ok(reclaimed >= 49 + 50 * 200, `reclaimed ${reclaimed}`);
    rc.close();
    await s.close();
    const s2 = await startAmber({ dir, save: '', leveldb: 'yes' });
    const rc2 = await RawClient.connect(s2.port);
    assert.equal(await rc2.call('DBSIZE'), ':0\r\n');
    await rc2.call('SELECT', '1');
    assert.equal(await rc2.call('GET', 'x'), '$1\r\ny\r\n');
    rc2.close();
    await s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Makes every batch written to `store` fail as a failing disk would; returns the undo. */
function failWrites(store: object): () => void {
  const s = store as { batch: () => unknown };
  const realBatch = s.batch;
  s.batch = () => ({
    _put: () => undefined,
    _del: () => undefined,
    _write: async () => {
      throw new Error('IO error: simulated disk failure');
    },
    close: async () => undefined,
  });
  return () => {
    s.batch = realBatch;
  };
}

/**
 * A server on `dir` with `leveldb-sync sync` that reports a fatal stop instead of exiting
 * (Server.fatalExit calls onExit), its engine and store, and a client that has SET a 1.
 */
async function writingServer(dir: string, sync: string) {
  const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': sync });
  const exit: { code?: number } = {};
  s.server.onExit = (code) => {
    exit.code = code;
  };
  const engine = levelDbOf(s.server)!.engine;
  const rc = await RawClient.connect(s.port);
  assert.equal(await rc.call('SET', 'a', '1'), '+OK\r\n');
  return { s, exit, engine, store: engine.store!, rc };
}

test('a LevelDB write error refuses writes with MISCONF until the store accepts them again; nothing is lost (everysec, and always when the synced write-ahead log holds the turn)', async () => {
  for (const sync of ['everysec', 'always']) {
    const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-misconf-'));
    try {
      const { s, exit, store, rc } = await writingServer(dir, sync);
      // the disk fails; under always the turn's log entry is on disk before its reply
      const restoreDisk = failWrites(store);
      assert.equal(await rc.call('SET', 'b', '2'), '+OK\r\n');
      let r = '';
      for (let i = 0; i < 100 && !r.startsWith('-MISCONF'); i++) {
        r = await rc.call('SET', 'c', '3');
        await new Promise((x) => setTimeout(x, 10));
      }
      assert.equal(r, '-MISCONF Errors writing to the LevelDB store: IO error: simulated disk failure\r\n', sync);
      assert.equal(await rc.call('GET', 'b'), '$1\r\n2\r\n', 'reads go on');
      assert.match(await rc.call('INFO', 'leveldb'), /leveldb_last_write_status:err/);
      assert.equal(exit.code, undefined, 'the server keeps running');
      // the disk recovers: the cron retries the failed batch, writes are accepted again
      restoreDisk();
      for (let i = 0; i < 300 && r !== '+OK\r\n'; i++) {
        await new Promise((x) => setTimeout(x, 20));
        r = await rc.call('SET', 'd', '4');
      }
      assert.equal(r, '+OK\r\n');
      rc.close();
      await s.close();
      const s2 = await startAmber({ dir, save: '', leveldb: 'yes' });
      const rc2 = await RawClient.connect(s2.port);
      assert.deepEqual(await rc2.pipeline([['GET', 'a'], ['GET', 'b'], ['GET', 'd']]), ['$1\r\n1\r\n', '$1\r\n2\r\n', '$1\r\n4\r\n']);
      rc2.close();
      await s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("under leveldb-sync always a write error the write-ahead log cannot cover either stops the server, as Redis after an AOF write error under always", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-always-err-'));
  try {
    // an embedded server stops instead of ending its host process (Server.fatalExit); amber-server
    // exits with the same code
    const { s, exit, engine, store, rc } = await writingServer(dir, 'always');
    // the log fails too (its disk): the turn's reply waits for LevelDB's synced batch
    engine.queue!.wal!.broken = true;
    const restoreDisk = failWrites(store);
    const reply = rc.call('SET', 'b', '2').then((r) => r, (e: Error) => e);
    for (let i = 0; i < 200 && exit.code === undefined; i++) await new Promise((x) => setTimeout(x, 10));
    assert.equal(exit.code, 1, 'the server stops rather than hold every reply behind the failed batch');
    // never acknowledged: the connection closes without a reply
    const r = await reply;
    assert.ok(r instanceof Error && /connection closed/.test(r.message), `the pending SET got ${String(r)}`);
    await assert.rejects(RawClient.connect(s.port), 'the listener is closed');
    restoreDisk();
    await s.close();
    // the store was closed before onExit (its LOCK released): the host can start a server on it
    // again, which finds the acknowledged write
    assert.equal(levelDbOf(s.server)!.engine.store, null, 'the store is still open after onExit');
    const s2 = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' });
    const rc2 = await RawClient.connect(s2.port);
    assert.equal(await rc2.call('GET', 'a'), '$1\r\n1\r\n');
    rc2.close();
    await s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('while the store loads, clients get -LOADING and INFO shows loading:1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-loading-'));
  try {
    const s = await startAmber({ dir, save: '', leveldb: 'yes' });
    const rc0 = await RawClient.connect(s.port);
    const cmds: string[][] = [];
    for (let i = 0; i < 1000; i++) cmds.push(['SET', `key:${i}`, 'v'.repeat(50)]);
    cmds.push(['HSET', 'hash', 'f', 'v'], ['RPUSH', 'list', ...Array.from({ length: 200 }, (_, i) => `element ${i}`)]);
    await rc0.pipeline(cmds);
    rc0.close();
    await s.close();
    // a server whose start-up is not awaited: listening while it loads, slowed by key-load-delay
    // as an RDB load is (1,002 keys of 1 ms)
    const config = new Config();
    config.load(null, ['port 0', 'bind 127.0.0.1', `dir ${quoteArg(dir)}`, 'save ""', 'leveldb yes', 'key-load-delay 1000']);
    const server = new Server(config);
    server.embedded = true;
    server.log.quiet = true;
    server.init();
    const port = await server.listen();
    const loading = server.startup();
    try {
      const rc = await RawClient.connect(port);
      assert.equal(await rc.call('PING'), '-LOADING Redis is loading the dataset in memory\r\n');
      const info = await rc.call('INFO', 'persistence');
      assert.match(info, /\r\nloading:1\r\n/);
      for (const f of ['loading_start_time', 'loading_total_bytes', 'loading_rdb_used_mem', 'loading_loaded_bytes', 'loading_loaded_perc', 'loading_eta_seconds']) {
        assert.match(info, new RegExp(`\\r\\n${f}:[\\d.]+\\r\\n`), `INFO persistence has ${f} while loading`);
      }
      const startTime = Number(/loading_start_time:(\d+)/.exec(info)![1]);
      assert.ok(Math.abs(startTime - Date.now() / 1000) < 60);
      assert.ok(Number(/loading_total_bytes:(\d+)/.exec(info)![1]) > 0, 'the store size is known');
      let loadingReplies = 1;
      while (await rc.call('PING') !== '+PONG\r\n') {
        loadingReplies++;
        await new Promise((r) => setTimeout(r, 50));
      }
      await loading;
      // ~1 s of delay: the event loop served PINGs all along
      assert.ok(loadingReplies >= 10, `-LOADING replies: ${loadingReplies}`);
      const ms = Number(/leveldb_last_load_time_ms:(\d+)/.exec(await rc.call('INFO', 'leveldb'))![1]);
      assert.ok(ms >= 900 && ms < 30000, `the load took ${ms} ms`);
      assert.equal(await rc.call('DBSIZE'), ':1002\r\n');
      const done = await rc.call('INFO', 'persistence');
      assert.match(done, /\r\nloading:0\r\n/);
      assert.ok(!done.includes('loading_loaded_bytes'), 'loading_* fields only while loading');
      rc.close();
    } finally {
      await loading.catch(() => undefined);
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SAVE and BGSAVE still work with leveldb yes (export): the dump.rdb loads into a plain server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-export-'));
  const plainDir = mkdtempSync(join(tmpdir(), 'amber-ldb-export-plain-'));
  try {
    const s = await startAmber({ dir, save: '', leveldb: 'yes' });
    const rc = await RawClient.connect(s.port);
    let before = '';
    try {
      await rc.pipeline([['SET', 's', 'v'], ['HSET', 'h', 'a', '1'], ['RPUSH', 'l', 'x', 'y'], ['ZADD', 'z', '2', 'm'], ['SADD', 'S', '1', 'x'],
        ['XADD', 'x', '1-1', 'f', 'v'], ['PEXPIREAT', 'h', String(Date.now() + 3_600_000)], ['SELECT', '1'], ['SET', 'in1', 'one']]);
      before = await keyspaceDump(s.port, 2);
      assert.equal(await rc.call('SAVE'), '+OK\r\n');
      assert.ok(existsSync(join(dir, 'dump.rdb')));
      rmSync(join(dir, 'dump.rdb'));
      assert.equal(await rc.call('BGSAVE'), '+Background saving started\r\n');
      for (let i = 0; i < 500 && !(await rc.call('INFO', 'persistence')).includes('rdb_bgsave_in_progress:0'); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.match(await rc.call('INFO', 'persistence'), /rdb_last_bgsave_status:ok/);
    } finally {
      rc.close();
      await s.close();
    }
    copyFileSync(join(dir, 'dump.rdb'), join(plainDir, 'dump.rdb'));
    const p = await startAmber({ dir: plainDir, save: '' });
    try {
      assert.equal(await keyspaceDump(p.port, 2), before);
    } finally {
      await p.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(plainDir, { recursive: true, force: true });
  }
});

test('keys that expired while the server was down are removed at load, from memory and from the store, as an RDB load drops them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-expired-'));
  const { startServer } = await import('../../src/index.js');
  const { readFileSync } = await import('node:fs');
  /** Starts a server on the store, runs `fn` on a connection, and closes both whatever happens. */
  const withStore = async (logfile: string, fn: (c: RawClient) => Promise<void>): Promise<void> => {
    const s = await startServer({ log: true, directives: { dir, save: '', logfile, leveldb: 'yes', 'leveldb-sync': 'always' } });
    const c = await RawClient.connect(s.port);
    try {
      await fn(c);
    } finally {
      c.close();
      await s.close();
    }
  };
  try {
    await withStore(join(dir, 'first.log'), async (c) => {
      await c.pipeline([['SET', 'keep', 'v'], ['SET', 'later', 'v', 'EX', '1000'], ['SET', 't1', 'v', 'PX', '300'], ['HSET', 'th', 'f', 'v'], ['PEXPIRE', 'th', '300']]);
    });
    await new Promise((r) => setTimeout(r, 400));
    await withStore(join(dir, 'second.log'), async (c) => {
      assert.equal(await c.call('DBSIZE'), ':2\r\n', 'the expired keys are gone at once');
      assert.match(await c.call('INFO', 'stats'), /\r\nexpired_keys:0\r\n/);
      assert.match(readFileSync(join(dir, 'second.log'), 'latin1'), /DB loaded from the LevelDB store: 2 keys, .*; 2 keys had expired and were removed/);
    });
    // their records were deleted: the next start loads 2 keys and removes nothing
    await withStore(join(dir, 'third.log'), async (c) => {
      assert.equal(await c.call('DBSIZE'), ':2\r\n');
      assert.equal(await c.call('TTL', 'keep'), ':-1\r\n');
      assert.match(await c.call('TTL', 'later'), /^:\d+\r\n$/);
      const third = readFileSync(join(dir, 'third.log'), 'latin1');
      assert.match(third, /DB loaded from the LevelDB store: 2 keys, /);
      assert.doesNotMatch(third, /had expired/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
