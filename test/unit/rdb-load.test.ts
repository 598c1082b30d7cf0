/**
 * The RDB layer inside a running server: SAVE / LASTSAVE, loading at start-up, -LOADING while a
 * load runs, the staging swap on failure, the save-related directives, the shutdown save.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startAmber, RawClient, tempDirs } from '../helpers/servers.js';
import { startServer } from '../../src/index.js';
import type { Server } from '../../src/server/server.js';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { ListObject } from '../../src/keyspace/types/list.js';
import { RdbFileEncoder, DEFAULT_SAVE_OPTIONS } from '../../src/persistence/rdb/encoder.js';
import { RdbReader, RdbError } from '../../src/persistence/rdb/reader.js';
import { RdbParser } from '../../src/persistence/rdb/decoder.js';
import { loadRdbFile, rdbState } from '../../src/persistence/rdb/load.js';
import { buildHash, buildSet, buildZSet, DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import { dumpDatabases } from '../../src/persistence/rdb/inspect.js';
import * as C from '../../src/persistence/rdb/constants.js';

const tmp = tempDirs('amber-rdbload-');

/** Fills db 0 and db 2 of a server with one key of each type. */
function populate(server: Server): void {
  const db = server.keyspace.dbs[0]!;
  const L = DEFAULT_LIMITS;
  db.setKey('s', 'value');
  db.setKey('n', '-42');
  db.setKey('ttl', 'soon', Date.now() + 3_600_000);
  db.setKey('l', ListObject.from(['a', 'b', 'c']));
  db.setKey('h', buildHash(['f', 'v', 'g', '1'], 'listpack', L)!);
  db.setKey('set', buildSet(['1', '2', '3'], L)!);
  db.setKey('z', buildZSet(['a', 'b'], [1, Infinity], 'listpack', L)!);
  server.keyspace.dbs[2]!.setKey('other', 'db2');
}

function fileKeys(path: string): Map<string, number> {
  const seen = new Map<string, number>();
  new RdbParser(new RdbReader(readFileSync(path)), {
    databases: 16,
    handlers: { key: (db, k, _v, e) => seen.set(`${db}:${k}`, e) },
  }).run();
  return seen;
}

test('SAVE writes dir/dbfilename atomically; LASTSAVE, dirty counter and rdb_saves follow', async () => {
  const dir = tmp();
  const amber = await startAmber({ dir, dbfilename: 'mine.rdb', save: '' });
  const c = await RawClient.connect(amber.port);
  try {
    populate(amber.server);
    assert.ok(amber.server.keyspace.dirty > 0);
    const before = Math.floor(Date.now() / 1000);
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    assert.equal(amber.server.keyspace.dirty, 0);
    const last = Number((await c.call('LASTSAVE')).slice(1, -2));
    assert.ok(last >= before && last <= before + 2);
    const info = await c.call('INFO', 'persistence');
    assert.match(info, /rdb_changes_since_last_save:0\r\n/);
    assert.match(info, /rdb_saves:1\r\n/);
    assert.match(info, new RegExp(`rdb_last_save_time:${last}\\r\\n`));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.rdb')), ['mine.rdb']);
    const keys = fileKeys(join(dir, 'mine.rdb'));
    assert.equal(keys.size, 8);
    assert.ok(keys.get('0:ttl')! > Date.now());
    assert.equal(keys.get('2:other'), -1);
  } finally {
    c.close();
    await amber.close();
  }
});

test('a saved file is loaded at start-up; keys already expired are dropped', async () => {
  const dir = tmp();
  const a = await startAmber({ dir, save: '' });
  populate(a.server);
  const want = dumpDatabases(a.server.keyspace.dbs);
  const c = await RawClient.connect(a.port);
  assert.equal(await c.call('SAVE'), '+OK\r\n');
  c.close();
  await a.close();
  const b = await startAmber({ dir, save: '' });
  try {
    assert.deepEqual(dumpDatabases(b.server.keyspace.dbs), want);
    assert.equal(b.server.keyspace.dirty, 0);
    assert.equal(rdbState(b.server).lastLoadKeysLoaded, 8);
  } finally {
    await b.close();
  }
  // a file with an expired key and a live one
  const ks = new Keyspace(16);
  ks.dbs[0]!.setKey('old', 'x', Date.now() - 1000);
  ks.dbs[0]!.setKey('new', 'y', Date.now() + 100_000);
  writeFileSync(join(dir, 'dump.rdb'), encodeKeyspace(ks));
  const d = await startAmber({ dir, save: '' });
  try {
    assert.equal(d.server.keyspace.dbs[0]!.peek('old'), undefined);
    assert.equal(d.server.keyspace.dbs[0]!.peek('new'), 'y');
    const c2 = await RawClient.connect(d.port);
    const info = await c2.call('INFO', 'persistence');
    assert.match(info, /rdb_last_load_keys_expired:1\r\n/);
    assert.match(info, /rdb_last_load_keys_loaded:1\r\n/);
    c2.close();
  } finally {
    await d.close();
  }
});

function encodeKeyspace(ks: Keyspace, opts = DEFAULT_SAVE_OPTIONS): Buffer {
  const chunks: Buffer[] = [];
  const enc = new RdbFileEncoder((x) => chunks.push(x), opts);
  enc.begin();
  ks.dbs.forEach((db, i) => {
    if (!db.size) return;
    enc.selectDb(i, db.size, db.expires.size);
    for (const [k, v] of db.entries()) enc.key(k, v, db.getExpire(k));
  });
  enc.end();
  return Buffer.concat(chunks);
}

test('while a load runs, clients get -LOADING and INFO shows the progress', async (t) => {
  const dir = tmp();
  const KEYS = 500;
  const ks = new Keyspace(16);
  for (let i = 0; i < KEYS; i++) ks.dbs[0]!.setKey(`key:${i}`, `value:${i}:${'x'.repeat(i % 50)}`);
  const path = join(dir, 'big.rdb');
  writeFileSync(path, encodeKeyspace(ks));
  const amber = await startAmber({ dir, dbfilename: 'none.rdb', save: '' });
  const c = await RawClient.connect(amber.port);
  try {
    // a millisecond per key (key-load-delay, slept on timers between steps): the load lasts
    // ~0.5 s, so the commands below find it running whatever the speed of the machine
    assert.equal(await c.call('CONFIG', 'SET', 'key-load-delay', '1000'), '+OK\r\n');
    const t0 = performance.now();
    const loading = loadRdbFile(amber.server, path);
    const [get, info] = await c.pipeline([['GET', 'key:1'], ['INFO', 'persistence']]);
    assert.equal(get, '-LOADING Redis is loading the dataset in memory\r\n');
    assert.match(info!, /\r\nloading:1\r\n/);
    assert.match(info!, /\r\nloading_total_bytes:\d+\r\n/);
    assert.match(info!, /\r\nloading_loaded_perc:\d+\.\d\d\r\n/);
    const total = Number(/\r\nloading_total_bytes:(\d+)\r\n/.exec(info!)![1]);
    const loaded = Number(/\r\nloading_loaded_bytes:(\d+)\r\n/.exec(info!)![1]);
    assert.equal(total, readFileSync(path).length, 'loading_total_bytes is the size of the file');
    assert.ok(loaded < total, `loading_loaded_bytes ${loaded} of ${total} while loading`);
    const res = await loading;
    t.diagnostic(`${KEYS} keys loaded in ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(res.keysLoaded, KEYS);
    assert.equal(await c.call('GET', 'key:1'), '$9\r\nvalue:1:x\r\n');
    assert.doesNotMatch(await c.call('INFO', 'persistence'), /loading_total_bytes/);

    // without the delay, the load still yields to clients between its time slices: the smallest
    // slice ends at the parser's first deadline check (every 16 items), so ~30 event-loop turns
    // pass during this load however fast the machine parses
    assert.equal(await c.call('CONFIG', 'SET', 'key-load-delay', '0'), '+OK\r\n');
    const again = loadRdbFile(amber.server, path, { sliceMs: Number.MIN_VALUE });
    assert.equal(await c.call('GET', 'key:1'), '-LOADING Redis is loading the dataset in memory\r\n');
    assert.equal((await again).keysLoaded, KEYS);
    assert.equal(await c.call('GET', 'key:1'), '$9\r\nvalue:1:x\r\n');
  } finally {
    c.close();
    await amber.close();
  }
});

test('a failed load leaves the keyspace as it was', async () => {
  const dir = tmp();
  const amber = await startAmber({ dir, save: '' });
  try {
    amber.server.keyspace.dbs[0]!.setKey('keep', 'me');
    const ks = new Keyspace(16);
    for (let i = 0; i < 1000; i++) ks.dbs[1]!.setKey(`k${i}`, 'v');
    const good = encodeKeyspace(ks);
    const path = join(dir, 'bad.rdb');
    writeFileSync(path, good.subarray(0, good.length - 100));
    await assert.rejects(loadRdbFile(amber.server, path), (e: unknown) => e instanceof RdbError && e.file === path);
    assert.equal(amber.server.keyspace.loading, false);
    assert.equal(amber.server.keyspace.dbs[0]!.peek('keep'), 'me');
    assert.equal(amber.server.keyspace.dbs[1]!.size, 0);
    // a missing file is not an error
    assert.equal((await loadRdbFile(amber.server, join(dir, 'nothing.rdb'))).exists, false);
  } finally {
    await amber.close();
  }
});

test('save directive: default, CONFIG SET/GET, errors, config file lines accumulate', async () => {
  const amber = await startAmber({ dir: tmp() });
  const c = await RawClient.connect(amber.port);
  try {
    assert.equal(await c.call('CONFIG', 'GET', 'save'), '*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n');
    assert.equal(await c.call('CONFIG', 'SET', 'save', '900 1 300 10'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'save'), '*2\r\n$4\r\nsave\r\n$12\r\n900 1 300 10\r\n');
    for (const bad of ['900', '0 1', '10 -1', 'a 1']) {
      assert.equal(await c.call('CONFIG', 'SET', 'save', bad),
        "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n", bad);
    }
    assert.equal(await c.call('CONFIG', 'SET', 'save', ''), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'save'), '*2\r\n$4\r\nsave\r\n$0\r\n\r\n');
    assert.equal(await c.call('CONFIG', 'SET', 'rdbchecksum', 'no'),
      "-ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable config\r\n");
    assert.equal(await c.call('CONFIG', 'GET', 'sanitize-dump-payload'), '*2\r\n$21\r\nsanitize-dump-payload\r\n$2\r\nno\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'dbfilename'), '*2\r\n$10\r\ndbfilename\r\n$8\r\ndump.rdb\r\n');
  } finally {
    c.close();
    await amber.close();
  }
  const dir = tmp();
  const conf = join(dir, 'amber.conf');
  writeFileSync(conf, 'save 900 1\nsave 300 10\n');
  const s1 = await startServer({ port: 0, configFile: conf, directives: { dir } });
  assert.deepEqual(s1.server.config.get('save'), [[900, 1], [300, 10]]);
  await s1.close();
  writeFileSync(conf, 'save 900 1\nsave ""\n');
  const s2 = await startServer({ port: 0, configFile: conf, directives: { dir } });
  assert.deepEqual(s2.server.config.get('save'), []);
  await s2.close();
});

test('shutdown saves when save points are set; NOSAVE and library close() do not', async () => {
  const dir = tmp();
  const a = await startAmber({ dir, save: '3600 1' });
  a.server.keyspace.dbs[0]!.setKey('k', 'v');
  await a.close();
  assert.ok(!existsSync(join(dir, 'dump.rdb')), 'close() does not save');
  const b = await startAmber({ dir, save: '3600 1' });
  b.server.keyspace.dbs[0]!.setKey('k', 'v');
  assert.equal(await b.server.shutdown({ reason: 'shutdown', nosave: true }), true);
  assert.ok(!existsSync(join(dir, 'dump.rdb')));
  const d = await startAmber({ dir, save: '3600 1' });
  d.server.keyspace.dbs[0]!.setKey('k', 'v');
  assert.equal(await d.server.shutdown({ reason: 'SIGTERM' }), true);
  assert.deepEqual([...fileKeys(join(dir, 'dump.rdb')).keys()], ['0:k']);
  const e = await startAmber({ dir, save: '' });
  e.server.keyspace.dbs[0]!.setKey('k2', 'v');
  assert.equal(await e.server.shutdown({ reason: 'shutdown', save: true }), true);
  // k came from the file loaded at start-up
  assert.deepEqual([...fileKeys(join(dir, 'dump.rdb')).keys()].sort(), ['0:k', '0:k2']);
});

test('rdbcompression and rdbchecksum shape the file SAVE writes; LRU policies write IDLE', async () => {
  const dir = tmp();
  const amber = await startAmber({ dir, save: '', rdbcompression: 'no', rdbchecksum: 'no', 'maxmemory-policy': 'allkeys-lru' });
  const c = await RawClient.connect(amber.port);
  try {
    amber.server.keyspace.dbs[0]!.setKey('long', 'a'.repeat(1000));
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    const buf = readFileSync(join(dir, 'dump.rdb'));
    assert.ok(buf.subarray(buf.length - 8).equals(Buffer.alloc(8)));
    assert.ok(buf.includes('a'.repeat(1000)));
    // IDLE <len 0> <type 0> <key length 4> "long"
    const k = buf.indexOf('long');
    assert.deepEqual([...buf.subarray(k - 4, k)], [C.RDB_OPCODE_IDLE, 0, C.RDB_TYPE_STRING, 4]);
  } finally {
    c.close();
    await amber.close();
  }
});
