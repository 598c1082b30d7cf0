/**
 * A synchronous save (SAVE) whose worker falls behind has its main thread compress chunks itself
 * (saveThroughWorkerSync, compressChunk) instead of waiting: the file must be byte for byte what
 * one encoder with compression and checksum writes, whichever thread compressed each chunk. The
 * worker runs from the compiled module (`npm test` builds dist/ first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CI, tempDirs } from '../helpers/servers.js';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'persistence', 'rdb');
const skip = !existsSync(join(dist, 'save-worker-client.js')) && !CI ? 'dist/ is not built (npm test builds it)' : false;
const tmp = tempDirs('amber-save-steal-');

test('chunks compressed on the main thread while the worker is behind: the same file as one encoder writes', { skip }, async () => {
  const client = (await import(pathToFileURL(join(dist, 'save-worker-client.js')).href)) as typeof import('../../src/persistence/rdb/save-worker-client.js');
  const encoder = (await import(pathToFileURL(join(dist, 'encoder.js')).href)) as typeof import('../../src/persistence/rdb/encoder.js');
  const { RdbFileEncoder, DEFAULT_SAVE_OPTIONS } = encoder;
  const keys: Array<[string, string]> = [];
  for (let i = 0; i < 20000; i++) {
    // compressible and not, around LZF's 20-byte threshold, some bigger than a 64 KB chunk
    const v = i % 3 === 0 ? 'abc'.repeat(5 + (i % 60))
      : i % 3 === 1 ? Buffer.from(Array.from({ length: 21 + (i % 90) }, (_, j) => (i * 31 + j * 7919) & 255)).toString('latin1')
        : i % 997 === 0 ? 'xy'.repeat(50000) : `v${i}`;
    keys.push([`key:${i}`, v]);
  }
  const fill = (enc: InstanceType<typeof RdbFileEncoder>): void => {
    enc.begin({ ctime: 1, usedMem: 1 });
    enc.selectDb(0, keys.length, 0);
    for (const [k, v] of keys) enc.key(k, v, -1);
  };
  const out: Buffer[] = [];
  const whole = new RdbFileEncoder((c) => out.push(Buffer.from(c)), DEFAULT_SAVE_OPTIONS);
  fill(whole);
  whole.end();
  const expected = Buffer.concat(out);
  for (const stealAfter of [-Infinity, 1, 16]) {
    const path = join(tmp(), 'dump.rdb');
    const stats = { compressedHere: 0 };
    const ok = client.saveThroughWorkerSync(path, { compression: true, checksum: true, autosyncBytes: 0 },
      (sink) => new RdbFileEncoder(sink, { ...DEFAULT_SAVE_OPTIONS, checksum: false }), (enc) => {
        fill(enc);
      }, stats, stealAfter);
    assert.ok(ok, 'the compiled save worker did not start');
    const got = readFileSync(path);
    assert.equal(got.length, expected.length, `stealAfter ${stealAfter}: ${stats.compressedHere} chunks compressed on the main thread`);
    assert.ok(got.equals(expected), `stealAfter ${stealAfter}: bytes differ`);
    // -Infinity: every chunk with strings to compress is compressed here
    if (stealAfter === -Infinity) assert.ok(stats.compressedHere > 10, `compressed here: ${stats.compressedHere}`);
  }
});
