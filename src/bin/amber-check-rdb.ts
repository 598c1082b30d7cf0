#!/usr/bin/env node
import { openSync, closeSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Keyspace } from '../keyspace/keyspace.js';
import { typeOf } from '../keyspace/types/object.js';
import { RdbReader, RdbError } from '../persistence/rdb/reader.js';
import { RdbParser } from '../persistence/rdb/decoder.js';
import { RDB_TYPE_NAMES } from '../persistence/rdb/constants.js';
import { dumpDatabases } from '../persistence/rdb/inspect.js';

/**
 * amber-check-rdb [--dump] [--databases N] <file.rdb>, after Redis 7.0's redis-check-rdb: reads
 * the file with Amber's own decoder (the one the server loads with, validating listpacks,
 * ziplists, intsets and zipmaps deeply), and prints the RDB version, the aux fields, the
 * databases, the checksum status and then a summary: keys read, expires, keys already expired,
 * and keys per database and type. On the first error it prints Redis's "RDB ERROR DETECTED"
 * block with the byte offset, what it was doing, the key and the type. `--dump` prints the keys
 * afterwards as JSON lines (the format of keyspace-dump.mjs).
 *
 * Module data and function libraries are walked and reported, not refused, as redis-check-rdb
 * does. Exit code: 0 when the file is valid, 1 when not.
 */
export function checkRdb(path: string, opts: { dump?: boolean; databases?: number } = {}, out: (line: string) => void = console.log): boolean {
  const databases = opts.databases ?? 16;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    out(`Cannot check RDB file ${path}: ${(e as Error).message}`);
    return false;
  }
  const now = Date.now();
  let expires = 0;
  let alreadyExpired = 0;
  const perDb = new Map<number, Map<string, number>>();
  const ks = opts.dump ? new Keyspace(databases) : null;
  if (ks) ks.loading = true;
  const reader = new RdbReader(fd, 0);
  let parser: RdbParser | null = null;
  out(`[offset 0] Checking RDB file ${path}`);
  try {
    const p = new RdbParser(reader, {
      databases,
      verifyChecksum: true,
      handlers: {
        aux(k, v) {
          out(`[offset ${reader.offset}] AUX FIELD ${k} = '${v}'`);
        },
        selectDb(db) {
          out(`[offset ${reader.offset}] Selecting DB ID ${db}`);
        },
        key(db, key, value, expireAt) {
          if (expireAt !== -1) {
            expires++;
            if (expireAt < now) alreadyExpired++;
          }
          let types = perDb.get(db);
          if (!types) perDb.set(db, (types = new Map()));
          const t = typeOf(value);
          types.set(t, (types.get(t) ?? 0) + 1);
          ks?.dbs[db]!.setKey(key, value, expireAt === -1 ? undefined : expireAt);
        },
        functionLibrary(code) {
          const m = /^#!\S+\s+name=(\S+)/.exec(code);
          out(`[offset ${reader.offset}] Function library${m ? ` '${m[1]}'` : ''} (not loadable by Amber yet)`);
        },
        moduleData(kind, name, key) {
          out(`[offset ${reader.offset}] Module ${kind === 'aux' ? 'AUX data' : `value of key '${key}'`} of module type '${name}' (not loadable by Amber)`);
        },
      },
    });
    parser = p;
    p.run();
    if (p.checksum === 'ok') out(`[offset ${reader.offset}] Checksum OK`);
    else if (p.checksum === 'disabled-in-file') out(`[offset ${reader.offset}] RDB file was saved with checksum disabled: no check performed.`);
    out(`[offset ${reader.offset}] \\o/ RDB looks OK! \\o/`);
    summary(p);
    if (ks) for (const line of dumpDatabases(ks.dbs)) out(line);
    return true;
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    out('--- RDB ERROR DETECTED ---');
    out(`[offset ${e.offset}] ${e.reason}`);
    if (parser !== null) {
      out(`[additional info] While doing: ${parser.doing}`);
      if (parser.currentKey !== null) out(`[additional info] Reading key '${parser.currentKey}'`);
      if (parser.currentType >= 0) out(`[additional info] Reading type ${parser.currentType} (${RDB_TYPE_NAMES[parser.currentType] ?? ''})`);
      summary(parser, parser.currentKey !== null ? 1 : 0);
    }
    return false;
  } finally {
    closeSync(fd);
  }

  /** `reading`: 1 when a key's name was read but not its value (redis-check-rdb counts it). */
  function summary(p: RdbParser, reading = 0): void {
    out(`[info] RDB version ${p.version}`);
    out(`[info] ${p.keys + reading} keys read`);
    out(`[info] ${expires} expires`);
    out(`[info] ${alreadyExpired} already expired`);
    if (p.emptyKeysSkipped) out(`[info] ${p.emptyKeysSkipped} empty keys skipped`);
    for (const db of [...perDb.keys()].sort((a, b) => a - b)) {
      const types = perDb.get(db)!;
      let n = 0;
      for (const c of types.values()) n += c;
      const detail = [...types.entries()].sort().map(([t, c]) => `${t} ${c}`).join(', ');
      out(`[info] db ${db}: ${n} keys (${detail})`);
    }
  }
}

function main(argv: string[]): number {
  let dump = false;
  let databases = 16;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dump') dump = true;
    else if (a === '--databases' && i + 1 < argv.length) databases = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      files.length = 0;
      break;
    } else files.push(a);
  }
  if (files.length !== 1 || !(databases >= 1)) {
    console.error('Usage: amber-check-rdb [--dump] [--databases N] <rdb-file-name>');
    return 1;
  }
  return checkRdb(files[0]!, { dump, databases }) ? 0 : 1;
}

const self = (() => {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (self) process.exitCode = main(process.argv.slice(2));
