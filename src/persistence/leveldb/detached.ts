/**
 * The mark of a LevelDB store that stopped receiving the server's writes while the server went on:
 * after CONFIG SET leveldb no, or a start-up with leveldb no beside an existing store. The file
 * `AMBER-DETACHED` in the store's directory holds the Unix time in ms of that moment (LevelDB
 * leaves files of names it does not know alone).
 *
 * Why: a later start-up with leveldb yes would otherwise load the store as it was then, and lose
 * every write made since, even those a dump.rdb or an AOF written meanwhile holds. With the mark,
 * that start-up imports such a newer file instead (index.ts), and loads the store only when
 * nothing newer exists. Redis has the same trap with an old AOF left by CONFIG SET appendonly no;
 * Amber's heart is durability, so it does not copy it.
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileDurably } from '../fsutil.js';

/** The mark's file name, in the store's directory. */
export const DETACHED_FILE = 'AMBER-DETACHED';

/**
 * Marks the store at `path` as detached at `at` (Unix ms), synced, unless it is marked already
 * (the first detach is the one that counts: the store has no write after it).
 * @throws the file system's error (the caller logs it: the mark is a safeguard)
 */
export function markDetached(path: string, at = Date.now()): void {
  if (detachedAt(path) !== null) return;
  writeFileDurably(join(path, DETACHED_FILE), `${at}\n`);
}

/** When the store at `path` was detached (Unix ms), or null when it is not marked. */
export function detachedAt(path: string): number | null {
  const file = join(path, DETACHED_FILE);
  if (!existsSync(file)) return null;
  const at = Number(readFileSync(file, 'latin1').trim());
  // an unreadable mark still says the store fell behind: as early as possible, so any file wins
  return Number.isFinite(at) ? at : 0;
}

/**
 * Removes the mark once the store holds the live data set again (loaded, imported, or written
 * through from CONFIG SET leveldb yes), synced.
 * @throws the file system's error
 */
export function clearDetached(path: string): void {
  const file = join(path, DETACHED_FILE);
  if (!existsSync(file)) return;
  unlinkSync(file);
  fsyncDir(path);
}
