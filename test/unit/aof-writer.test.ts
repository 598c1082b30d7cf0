/**
 * AofWriter encodes effects straight into its byte buffer: the file must hold exactly what
 * respCommand (catAppendOnlyGenericCommand's format) gives for the same effects, with SELECT on a
 * change of db, for arguments of every length (the byte loop up to 16 bytes, latin1Write beyond),
 * every byte value, and turns bigger than the initial buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AofWriter, respCommand } from '../../src/persistence/aof/writer.js';
import { tempDirs } from '../helpers/servers.js';
import { prng } from '../helpers/prng.js';

const tmp = tempDirs('amber-aof-writer-');

const events = { writeError: (): void => undefined, writeRecovered: (): void => undefined, fatal: (): void => undefined };

/** A latin1 string of `n` random bytes (any of 0-255). */
function bytes(rnd: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * 256));
  return s;
}

test('the file holds the RESP of every effect, byte for byte, across turns of every size', async () => {
  const rnd = prng(20261121);
  const path = join(tmp(), 'appendonly.aof.1.incr.aof');
  const w = new AofWriter(path, 'no', events);
  let expected = '';
  let db = -1;
  const lengths = [0, 1, 9, 10, 15, 16, 17, 99, 100, 1000, 65536, 200000];
  for (let turn = 0; turn < 40; turn++) {
    const cmds = 1 + Math.floor(rnd() * 30);
    for (let c = 0; c < cmds; c++) {
      const argc = 1 + Math.floor(rnd() * (turn === 7 ? 300 : 5));
      const argv: string[] = [];
      for (let i = 0; i < argc; i++) {
        // mostly short arguments, some at the byte loop's edge, a few bigger than the buffer
        const n = rnd() < 0.9 ? Math.floor(rnd() * 40) : lengths[Math.floor(rnd() * lengths.length)]!;
        argv.push(bytes(rnd, n));
      }
      const d = rnd() < 0.1 ? Math.floor(rnd() * 16) : Math.max(db, 0);
      if (d !== db) {
        expected += respCommand(['SELECT', String(d)]);
        db = d;
      }
      expected += respCommand(argv);
      w.feed(d, argv);
    }
    assert.equal(w.bufferLength, Buffer.byteLength(expected, 'latin1') - readFileSync(path).length, `aof_buffer_length after turn ${turn}`);
    assert.equal(w.flush(), null);
    assert.equal(w.bufferLength, 0);
  }
  await w.close();
  const file = readFileSync(path);
  assert.equal(file.length, Buffer.byteLength(expected, 'latin1'));
  assert.ok(file.equals(Buffer.from(expected, 'latin1')), 'the file differs from the RESP of the effects');
});
