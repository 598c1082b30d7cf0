#!/usr/bin/env node
import { realpathSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyStore, storeLockHolder, LevelDbCorruption, unfinishedBackup } from '../persistence/leveldb/verify.js';
import { scanWal } from '../persistence/leveldb/wal.js';

/**
 * amber-check-leveldb <store-dir>: checks a LevelDB store (Amber's `leveldb-path`, or a BACKUP
 * copy before you restore it) the way the server does before LevelDB opens it (verify.ts): CURRENT,
 * the MANIFEST, every block of every live table and every record of the logs LevelDB replays,
 * against their CRC-32C; then the entries of Amber's own write-ahead log beside them (wal.ts),
 * against theirs. Reads the files only (opening a store with LevelDB would rewrite it).
 * Prints what it checked, a log's torn tail (what LevelDB drops of it), or the first corrupt file
 * with its offset and the reason. Exit code: 0 valid (a torn tail included), 1 corrupt or
 * unreadable.
 */
export async function checkLevelDb(path: string, out: (line: string) => void = console.log): Promise<boolean> {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    out(`Cannot check ${path}: not a directory`);
    return false;
  }
  const unfinished = unfinishedBackup(path);
  if (unfinished !== null) {
    out(`Cannot check ${path}: ${unfinished}`);
    return false;
  }
  if (!existsSync(join(path, 'CURRENT'))) {
    out(`Cannot check ${path}: no CURRENT file, so no LevelDB store to check (a store being created, or one whose CURRENT was lost)`);
    return false;
  }
  out(`Checking the LevelDB store ${path}`);
  const holder = storeLockHolder(path);
  if (holder !== null) {
    out(`Warning: process ${holder} has the store open: its files may change while they are checked, so damage reported below may not be real. Check a BACKUP copy, or stop that process first.`);
  }
  try {
    const check = await verifyStore(path);
    for (const t of check.tornTails) {
      out(`The log ${t.file} ends in an incomplete record at offset ${t.offset} (${t.bytes} bytes): a write cut short by a crash, which LevelDB drops when it opens the store`);
    }
    out(`${check.tables} tables and ${check.logs} logs, ${check.bytes} bytes: every checksum matches`);
    const wal = await scanWal(path);
    if (wal.files > 0) {
      if (wal.torn !== null) {
        out(`The write-ahead log ${wal.torn.file} ends in an incomplete entry at offset ${wal.torn.offset} (${wal.torn.bytes} bytes): a write cut short by a crash, which the next start drops`);
      }
      out(`Write-ahead log: ${wal.files} files, ${wal.entries} entries, ${wal.bytes} bytes: every checksum matches (the next start writes to the store those it does not hold yet)`);
    }
    out('LevelDB store looks OK');
    return true;
  } catch (e) {
    if (e instanceof LevelDbCorruption) {
      out(`Corrupt: ${e.message}`);
    } else {
      out(`Cannot check ${path}: ${(e as Error).message}`);
    }
    return false;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0] === '-h' || argv[0] === '--help') {
    console.error('Usage: amber-check-leveldb <leveldb-store-directory>');
    return 1;
  }
  return (await checkLevelDb(argv[0]!)) ? 0 : 1;
}

const self = (() => {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (self) process.exitCode = await main(process.argv.slice(2));
