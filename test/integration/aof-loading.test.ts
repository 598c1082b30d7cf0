/**
 * Loading an AOF is visible as Redis 7.0 shows it: while a child Amber replays an appendonlydir,
 * clients get `-LOADING Redis is loading the dataset in memory`, INFO persistence shows loading:1
 * and the loading_* progress fields, and once it is done the data is all there. The load is made
 * slow with key-load-delay (a sleep after every command, as Redis's own tests do) rather than big.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { freePort, RawClient } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'amber-aof-loading-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEYS = 1000;
/** key-load-delay, µs: ~1,000 commands take ~1 s to load on any machine */
const DELAY = 1000;

test('while an AOF loads, clients get -LOADING and INFO shows loading_* progress', { timeout: 60_000 }, async (t) => {
  const built = join(repoRoot, 'dist', 'src', 'main.js');
  if (!existsSync(built)) {
    t.skip('dist/ not built (npm test builds it first)');
    return;
  }
  // an appendonlydir with one incr file of KEYS SET commands (no base: Redis 7.0 loads that too)
  const aofDir = join(dir, 'appendonlydir');
  mkdirSync(aofDir);
  writeFileSync(join(aofDir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\n');
  const parts: string[] = ['*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n'];
  for (let i = 0; i < KEYS; i++) {
    const k = `key:${i}`;
    const v = `value:${i}`;
    parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
  }
  writeFileSync(join(aofDir, 'appendonly.aof.1.incr.aof'), parts.join(''));

  const port = await freePort();
  const proc = spawn(process.execPath, [built, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--key-load-delay', String(DELAY)], { stdio: 'ignore' });
  try {
    let loadingReplies = 0;
    let infoWhileLoading = '';
    const percs: number[] = [];
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.ok(Date.now() < deadline, 'the AOF did not finish loading in 30 s');
      assert.equal(proc.exitCode, null, 'amber-server exited while loading');
      let c: RawClient;
      try {
        c = await RawClient.connect(port);
      } catch {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      try {
        const [ping, info] = await c.pipeline([['PING'], ['INFO', 'persistence']]);
        if (ping === '+PONG\r\n') break;
        assert.equal(ping, '-LOADING Redis is loading the dataset in memory\r\n');
        loadingReplies++;
        if (infoWhileLoading === '') infoWhileLoading = info!;
        const perc = /\r\nloading_loaded_perc:([\d.]+)\r\n/.exec(info!);
        if (perc) percs.push(Number(perc[1]));
      } finally {
        c.close();
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    t.diagnostic(`${loadingReplies} -LOADING replies, loading_loaded_perc from ${percs[0]} to ${percs[percs.length - 1]}`);
    // a load of ~1 s answered every ~10 ms: many replies, the progress seen rising
    assert.ok(loadingReplies >= 10, `only ${loadingReplies} -LOADING replies`);
    assert.match(infoWhileLoading, /\r\nloading:1\r\n/);
    for (const f of ['loading_start_time', 'loading_total_bytes', 'loading_loaded_bytes', 'loading_loaded_perc', 'loading_eta_seconds']) {
      assert.match(infoWhileLoading, new RegExp(`\\r\\n${f}:[\\d.]+\\r\\n`), f);
    }
    const total = Number(/\r\nloading_total_bytes:(\d+)\r\n/.exec(infoWhileLoading)![1]);
    const loaded = Number(/\r\nloading_loaded_bytes:(\d+)\r\n/.exec(infoWhileLoading)![1]);
    assert.equal(total, statSync(join(aofDir, 'appendonly.aof.1.incr.aof')).size, 'loading_total_bytes is the size of the AOF');
    assert.ok(loaded < total, `loading_loaded_bytes ${loaded} of ${total} at the first -LOADING`);
    assert.equal(percs.length, loadingReplies, 'every INFO while loading has loading_loaded_perc');
    assert.ok(percs[percs.length - 1]! > percs[0]!, `loading_loaded_perc did not rise: ${percs.join(' ')}`);
    for (let i = 1; i < percs.length; i++) assert.ok(percs[i]! >= percs[i - 1]!, `loading_loaded_perc went back: ${percs.join(' ')}`);
    const c = await RawClient.connect(port);
    try {
      assert.equal(await c.call('DBSIZE'), `:${KEYS}\r\n`);
      assert.equal(await c.call('GET', `key:${KEYS - 1}`), `$${`value:${KEYS - 1}`.length}\r\nvalue:${KEYS - 1}\r\n`);
      const info = await c.call('INFO', 'persistence');
      assert.match(info, /\r\nloading:0\r\n/);
      assert.doesNotMatch(info, /loading_total_bytes/);
    } finally {
      c.close();
    }
  } finally {
    proc.kill('SIGKILL');
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(null) : proc.once('exit', r)));
  }
});

test('an AOF load yields to the event loop between slices of commands (checked with the shortest slice, whatever the machine speed)', async () => {
  const { startAmber } = await import('../helpers/servers.js');
  const { loadAofFile } = await import('../../src/persistence/aof/loader.js');
  const s = await startAmber({ save: '' });
  try {
    const path = join(dir, 'sliced.aof');
    let text = '';
    for (let i = 0; i < 2000; i++) text += `*3\r\n$3\r\nSET\r\n$${String(i).length + 2}\r\nk:${i}\r\n$1\r\nv\r\n`;
    writeFileSync(path, text);
    // turns the event loop gets while the load runs: none when it runs in one go
    const turns = async (sliceMs: number): Promise<number> => {
      let n = 0;
      let done = false;
      const tick = (): void => {
        if (done) return;
        n++;
        setImmediate(tick);
      };
      setImmediate(tick);
      assert.equal(await loadAofFile(s.server, path, { truncatedAllowed: false, rdbLoader: null, sliceMs }), 'ok');
      done = true;
      return n;
    };
    // a slice ends at the first clock check past it: every 256 commands
    const sliced = await turns(Number.MIN_VALUE);
    assert.ok(sliced >= 7, `only ${sliced} event-loop turns during a load of 2,000 commands in the shortest slices`);
    assert.equal(s.server.keyspace.dbs[0]!.size, 2000);
  } finally {
    await s.close();
  }
});
