/**
 * A LevelDB store the server stopped writing to (CONFIG SET leveldb no, or a start-up with
 * leveldb no beside it) is marked detached (persistence/leveldb/detached.ts). A later start-up
 * with leveldb yes imports a dump.rdb or AOF written after the detach in its place, and loads the
 * store only when there is none; the mark goes once the store holds the live data set again
 * (that start-up, or CONFIG SET leveldb yes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startAmber, tempDirs, callsOn } from '../helpers/servers.js';
import { DETACHED_FILE } from '../../src/persistence/leveldb/detached.js';

const tmp = tempDirs('amber-ldb-detached-');

/** Waits until `cond` holds, polling; fails after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `cmds` on a fresh connection to `port`; resolves to the replies. */
const run = (port: number, ...cmds: string[][]): Promise<string[]> => callsOn(port, cmds);

const mark = (dir: string): string => join(dir, 'leveldb', DETACHED_FILE);

/**
 * A pause longer than a file timestamp's granularity (the kernel's coarse clock, a few ms): a
 * file written right after the detach could otherwise carry an mtime before the mark's time.
 */
const pastTimestampGranularity = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

test('after CONFIG SET leveldb no, a dump.rdb saved later is imported in place of the store at the next start-up', async () => {
  const dir = tmp();
  const directives = { dir, save: '', leveldb: 'yes' };
  let s = await startAmber(directives);
  await run(s.port, ['SET', 'a', '1'], ['SET', 'only-in-store', 'x']);
  assert.deepEqual(await run(s.port, ['CONFIG', 'SET', 'leveldb', 'no']), ['+OK\r\n']);
  await until(() => existsSync(mark(dir)), 'the detached mark');
  await pastTimestampGranularity();
  // writes after the detach reach only memory and the dump.rdb saved now
  await run(s.port, ['SET', 'a', '2'], ['DEL', 'only-in-store'], ['SET', 'b', '2'], ['SAVE']);
  await s.close();

  s = await startAmber(directives);
  assert.deepEqual(await run(s.port, ['GET', 'a'], ['GET', 'b'], ['EXISTS', 'only-in-store']), ['$1\r\n2\r\n', '$1\r\n2\r\n', ':0\r\n']);
  assert.equal(existsSync(mark(dir)), false, 'the store holds the live data set again');
  await run(s.port, ['SET', 'c', '3']);
  await s.close();

  // from the store alone now: the imported data set and the write after it
  s = await startAmber(directives);
  assert.deepEqual(await run(s.port, ['GET', 'a'], ['GET', 'c'], ['DBSIZE']), ['$1\r\n2\r\n', '$1\r\n3\r\n', ':3\r\n']);
  await s.close();
});

test('a detached store with no dump.rdb or AOF written after the detach is loaded as it was, and no older file replaces it', async () => {
  const dir = tmp();
  const directives = { dir, save: '', leveldb: 'yes' };
  let s = await startAmber(directives);
  // a dump.rdb older than the detach, with another value
  await run(s.port, ['SET', 'a', '0'], ['SAVE'], ['SET', 'a', '1']);
  await run(s.port, ['CONFIG', 'SET', 'leveldb', 'no']);
  await until(() => existsSync(mark(dir)), 'the detached mark');
  await run(s.port, ['SET', 'a', '2']); // in memory only: lost, as nothing persisted it
  await s.close();

  s = await startAmber(directives);
  assert.deepEqual(await run(s.port, ['GET', 'a']), ['$1\r\n1\r\n']);
  assert.equal(existsSync(mark(dir)), false);
  await s.close();
});

test('a start-up with leveldb no beside a store marks it; CONFIG SET leveldb yes clears the mark', async () => {
  const dir = tmp();
  let s = await startAmber({ dir, save: '', leveldb: 'yes' });
  await run(s.port, ['SET', 'a', '1']);
  await s.close();

  s = await startAmber({ dir, save: '', leveldb: 'no' });
  assert.ok(existsSync(mark(dir)), 'marked at start-up');
  await pastTimestampGranularity();
  await run(s.port, ['SET', 'a', '5'], ['SAVE']);
  await s.close();

  s = await startAmber({ dir, save: '', leveldb: 'yes' });
  assert.deepEqual(await run(s.port, ['GET', 'a']), ['$1\r\n5\r\n']);
  assert.equal(existsSync(mark(dir)), false);
  // off and on again at run time: the live data set is imported, and the mark goes with it
  await run(s.port, ['CONFIG', 'SET', 'leveldb', 'no']);
  await until(() => existsSync(mark(dir)), 'the detached mark');
  await until(async () => (await run(s.port, ['INFO', 'leveldb']))[0]!.includes('leveldb_state:off'), 'the store closed');
  await run(s.port, ['SET', 'a', '6'], ['CONFIG', 'SET', 'leveldb', 'yes']);
  await until(async () => (await run(s.port, ['INFO', 'leveldb']))[0]!.includes('leveldb_state:on'), 'write-through on again');
  assert.equal(existsSync(mark(dir)), false);
  await s.close();
  s = await startAmber({ dir, save: '', leveldb: 'yes' });
  assert.deepEqual(await run(s.port, ['GET', 'a']), ['$1\r\n6\r\n']);
  await s.close();
});
