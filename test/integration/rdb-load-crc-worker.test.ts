/**
 * A big RDB file's CRC-64 is computed on a worker thread while the built server parses it
 * (LoadJob.verifyChecksum, load.ts): the trailer is still checked exactly — a good file loads, a
 * file with one changed byte inside a value (which parses fine) is refused at start-up with the
 * file, the trailer's offset and Redis's "Wrong RDB checksum" reason, and a file with bytes after
 * its trailer (which Redis ignores) loads with the check done on the main thread instead.
 * The worker runs only in the compiled server (spawnAmber uses dist/ when built); under tsx the
 * same files go through the main thread's CRC, which these cases check too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { spawnAmber, RawClient } from '../helpers/servers.js';
import { RdbFileEncoder, DEFAULT_SAVE_OPTIONS } from '../../src/persistence/rdb/encoder.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const KEYS = 10_000;
/** incompressible 1 KB values: the file is ~10 MB, over the worker's 8 MB threshold */
const values = Array.from({ length: KEYS }, (_, i) => randomBytes(1024).toString('latin1') + String(i));

/** The whole RDB file of KEYS keys `k:<i>` -> values[i]. */
function rdbFile(): Buffer {
  const chunks: Buffer[] = [];
  const enc = new RdbFileEncoder((c) => chunks.push(Buffer.from(c)), DEFAULT_SAVE_OPTIONS);
  enc.begin();
  enc.selectDb(0, KEYS, 0);
  for (let i = 0; i < KEYS; i++) enc.key(`k:${i}`, values[i]!);
  enc.end();
  return Buffer.concat(chunks);
}

/** spawnAmber starts the compiled server (which has the worker module) unless told to use tsx */
const built = process.env.AMBER_TEST_TSX !== '1' && existsSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'persistence', 'rdb', 'save-worker.js'));

/** The start-up error of a server on `file`, which must fail (a server that starts is stopped). */
async function startupError(file: Buffer): Promise<Error> {
  const r = await spawnAmber(dirWith(file)).then(
    async (srv) => {
      await srv.kill();
      return null;
    },
    (e: Error) => e,
  );
  assert.ok(r !== null, 'the server started on a file with a wrong checksum');
  return r;
}

function dirWith(file: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'amber-crc-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'dump.rdb'), file);
  return dir;
}

test('a big RDB file loads with its checksum verified on a worker; a changed byte is refused with file, offset and reason; bytes after the trailer are ignored as Redis does', async () => {
  const good = rdbFile();
  assert.ok(good.length > 8 * 1024 * 1024, `the file must exceed the worker threshold (${good.length} bytes)`);

  // 1. the good file: every key, and (compiled server) the worker's log line
  const a = await spawnAmber(dirWith(good), { loglevel: 'verbose' });
  try {
    const c = await RawClient.connect(a.port);
    assert.equal(await c.call('DBSIZE'), `:${KEYS}\r\n`);
    const v = values[1234]!;
    assert.equal(await c.call('GET', 'k:1234'), `$${v.length}\r\n${v}\r\n`);
    c.close();
    if (built) assert.match(a.log(), /The checksum of .*dump\.rdb was computed on a worker thread/);
  } finally {
    await a.kill();
  }

  // 2. one byte changed inside the last value: the file parses, the trailer does not match
  const bad = Buffer.from(good);
  const at = bad.lastIndexOf(Buffer.from(values[KEYS - 1]!.slice(0, 64), 'latin1'));
  assert.ok(at > 0);
  bad[at + 10] ^= 0x55;
  const e = await startupError(bad);
  assert.match(e.message, /dump\.rdb/);
  assert.match(e.message, /Wrong RDB checksum expected: \([0-9a-f]+\) but got \([0-9a-f]+\)/);
  assert.ok(e.message.includes(String(good.length - 8)), `the trailer's offset ${good.length - 8} is named: ${e.message}`);

  // 3. bytes after the trailer: ignored (rdbLoadRio stops after the checksum), check still done
  const tail = Buffer.concat([good, Buffer.from('trailing bytes')]);
  const b = await spawnAmber(dirWith(tail), { loglevel: 'verbose' });
  try {
    const c = await RawClient.connect(b.port);
    assert.equal(await c.call('DBSIZE'), `:${KEYS}\r\n`);
    c.close();
    assert.doesNotMatch(b.log(), /computed on a worker thread/);
  } finally {
    await b.kill();
  }
  // ... and a changed byte with a tail is still caught (the main thread's check)
  const badTail = Buffer.concat([bad, Buffer.from('trailing bytes')]);
  assert.match((await startupError(badTail)).message, /Wrong RDB checksum/);
});
