/**
 * A background save's worker thread runs at a lower priority (SaveWorkerData.niceness, set by
 * bgsave.ts for BGSAVE and the AOF rewrite's RDB base): on Linux the nice value applies to that
 * thread alone, so the event loop keeps its priority. A synchronous save's worker (SAVE: the
 * server waits for it anyway) keeps the process's. The worker runs from the compiled module
 * (`npm test` builds dist/ first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CI } from '../helpers/servers.js';

const compiled = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'persistence', 'rdb', 'save-worker-client.js');
const skip = process.platform !== 'linux'
  ? 'thread priorities are set on Linux only'
  : !existsSync(compiled) && !CI ? 'dist/ is not built (npm test builds it)' : false;

/** The nice value in a /proc stat file (the process's, or one thread's under task/). */
function niceOf(statPath: string): number {
  const stat = readFileSync(statPath, 'latin1');
  // fields after the command's closing parenthesis: state is field 3, nice field 19
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** The nice values of this process's threads other than the main one (from /proc). */
function threadNices(): number[] {
  const out: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    if (Number(tid) === process.pid) continue;
    try {
      out.push(niceOf(`/proc/self/task/${tid}/stat`));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

test('a background save worker lowers its own thread priority only', { skip }, async (t) => {
  if (niceOf('/proc/self/stat') !== 0) {
    t.skip('the test process itself runs niced');
    return;
  }
  const { startSaveWorker } = (await import(pathToFileURL(compiled).href)) as typeof import('../../src/persistence/rdb/save-worker-client.js');
  const before = threadNices();
  assert.ok(!before.includes(7), `a thread already has nice 7: ${before}`);
  const w = startSaveWorker({ compression: true, checksum: true, autosyncBytes: 0, niceness: 7 });
  assert.ok(w !== null, 'the compiled save worker did not start');
  try {
    // the worker sets it as it starts: wait for its module to run
    let nices: number[] = [];
    for (let i = 0; i < 200; i++) {
      nices = threadNices();
      if (nices.includes(7)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(nices.filter((n) => n === 7).length, 1, `one thread at nice 7: ${nices}`);
    assert.equal(niceOf('/proc/self/stat'), 0, 'the main thread keeps nice 0');
  } finally {
    await w.terminate();
  }
  // without a niceness (SAVE's worker), every thread stays as it was
  const plain = startSaveWorker({ compression: true, checksum: true, autosyncBytes: 0 });
  assert.ok(plain !== null);
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!threadNices().includes(7));
    assert.deepEqual([...new Set(threadNices())], [0]);
  } finally {
    await plain.terminate();
  }
});
