import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, readlinkSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renameReplacing, unlinkInBackground, replacedFileClose, writeFileDurably } from '../../src/persistence/fsutil.js';

/** Descriptors of this process that point at `path` after it was unlinked (Linux /proc). */
function heldDeleted(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === `${path} (deleted)`) n++;
    } catch {
      // the descriptor closed meanwhile
    }
  }
  return n;
}

const linux = existsSync('/proc/self/fd');

test('renameReplacing: the new file is in place at once, the old one is freed by a background close', { skip: !linux && 'needs /proc/self/fd (Linux)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-fsutil-'));
  const realClose = replacedFileClose.close;
  // what each background close was handed: the descriptor's target at that moment
  const closes: string[] = [];
  replacedFileClose.close = (fd, done) => {
    closes.push(readlinkSync(`/proc/self/fd/${fd}`));
    setTimeout(() => realClose(fd, done), 20);
  };
  try {
    const target = join(dir, 'dump.rdb');
    writeFileSync(target, 'old contents');
    writeFileSync(join(dir, 'temp-1.rdb'), 'new contents');
    const closed = renameReplacing(join(dir, 'temp-1.rdb'), target);
    assert.equal(readFileSync(target, 'latin1'), 'new contents');
    assert.deepEqual(readdirSync(dir), ['dump.rdb']);
    // the replaced inode is still open after the rename: its blocks are not freed in this turn
    assert.deepEqual(closes, [`${target} (deleted)`]);
    assert.equal(heldDeleted(target), 1);
    await closed;
    assert.equal(heldDeleted(target), 0);

    // nothing to replace: a plain rename, no background close
    writeFileSync(join(dir, 'temp-2.rdb'), 'x');
    await renameReplacing(join(dir, 'temp-2.rdb'), join(dir, 'other.rdb'));
    assert.equal(readFileSync(join(dir, 'other.rdb'), 'latin1'), 'x');
    assert.equal(closes.length, 1);

    // a failed rename throws, leaves the target and closes the old file it had opened
    assert.throws(() => renameReplacing(join(dir, 'missing.rdb'), target), { code: 'ENOENT' });
    assert.equal(readFileSync(target, 'latin1'), 'new contents');
    assert.equal(closes.length, 1);
    assert.ok(!readdirSync('/proc/self/fd').some((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === target;
      } catch {
        return false;
      }
    }), 'no descriptor of the target is left open');
  } finally {
    replacedFileClose.close = realClose;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unlinkInBackground: deletes off the caller, ignores a missing file, reports other errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-fsutil-'));
  try {
    const f = join(dir, 'appendonly.aof.1.base.rdb');
    writeFileSync(f, 'base');
    const errors: string[] = [];
    const p = unlinkInBackground(f, (e) => errors.push(e.code ?? ''));
    await p;
    assert.equal(existsSync(f), false);
    await unlinkInBackground(f, (e) => errors.push(e.code ?? ''));
    assert.deepEqual<string[]>(errors, [], 'a file already gone is not an error');
    // a directory cannot be unlinked: the error reaches onError, the promise still resolves
    await unlinkInBackground(dir, (e) => errors.push(e.code ?? ''));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^(EISDIR|EPERM)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileDurably: a failed rename leaves the target as it was and no temp file behind', () => {
  const d = mkdtempSync(join(tmpdir(), 'amber-durably-'));
  try {
    writeFileDurably(join(d, 'ok.log'), 'SUCCESS\n');
    assert.equal(readFileSync(join(d, 'ok.log'), 'latin1'), 'SUCCESS\n');
    assert.deepEqual(readdirSync(d), ['ok.log']);
    // a non-empty directory in the way: rename(2) fails as a full disk fails a write
    mkdirSync(join(d, 'BACKUP.log'));
    writeFileSync(join(d, 'BACKUP.log', 'x'), 'x');
    assert.throws(() => writeFileDurably(join(d, 'BACKUP.log'), 'FAILED: disk full\n'), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.deepEqual(readdirSync(d).sort(), ['BACKUP.log', 'ok.log']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
