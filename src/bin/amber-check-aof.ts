#!/usr/bin/env node
import { readFileSync, existsSync, truncateSync, statSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { AofManifest, AofManifestError } from '../persistence/aof/manifest.js';
import { AofCommandReader } from '../persistence/aof/loader.js';

/**
 * amber-check-aof [--fix] [--yes] [--truncate-to-timestamp <ts>] <file.manifest|file.aof>, after
 * Redis 7.0's redis-check-aof: validates the manifest, the RDB preamble (framing: magic, version,
 * EOF opcode, checksum when an RDB checker is available) and the RESP framing of every file;
 * prints, per file, the size, the last valid offset and the diff. With --fix, the last file is
 * truncated at its last valid offset (after asking, or at once with --yes); only the last file may
 * be truncated, as the loader only accepts a truncated last file. --truncate-to-timestamp cuts the
 * last incr file at the first `#TS:` annotation later than <ts> (Unix seconds).
 * Exit code: 0 valid (or fixed), 1 invalid.
 */

interface FileReport {
  name: string;
  size: number;
  okUpTo: number;
  okUpToLine: number;
  /** why it stopped before the end, or null when valid */
  problem: string | null;
  /** true when the problem is a truncated tail (fixable by truncation) */
  truncated: boolean;
}

/** Checks one AOF file's RESP framing (and skips an RDB preamble by its EOF marker). */
export function checkAofFile(path: string, truncateToTs: number | null, firstLine = 1): FileReport & { tsCut: number | null } {
  const buf = readFileSync(path);
  const rep: FileReport & { tsCut: number | null } = {
    name: basename(path), size: buf.length, okUpTo: 0, okUpToLine: firstLine, problem: null, truncated: false, tsCut: null,
  };
  let pos = 0;
  if (buf.length >= 9 && buf.latin1Slice(0, 5) === 'REDIS') {
    const end = findRdbEnd(buf);
    if (end < 0) {
      rep.problem = 'RDB preamble is truncated or invalid (no EOF opcode found)';
      rep.truncated = true;
      return rep;
    }
    pos = end;
    console.log(`RDB preamble is OK, proceeding with AOF tail...`);
  }
  const reader = new AofCommandReader(buf, pos);
  let line = firstLine;
  const countLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) if (buf[i] === 10) line++;
  };
  for (;;) {
    const before = reader.pos;
    const r = reader.next();
    if (r.kind === 'end') break;
    if (r.kind === 'eof') {
      rep.problem = `Unexpected EOF reading the command at offset ${r.offset}`;
      rep.truncated = true;
      break;
    }
    if (r.kind === 'format') {
      rep.problem = `Bad file format at offset ${r.offset}: expected '*' or '$'`;
      break;
    }
    if (r.kind === 'annotation' && truncateToTs !== null && rep.tsCut === null) {
      const m = /^TS:(\d+)/.exec(r.text);
      if (m && Number(m[1]) > truncateToTs) rep.tsCut = before;
    }
    countLines(before, reader.pos);
    rep.okUpTo = reader.pos;
    rep.okUpToLine = line;
  }
  if (rep.problem === null) rep.okUpTo = buf.length;
  return rep;
}

/**
 * Offset just after the RDB part of an AOF with a preamble: the EOF opcode (0xFF) followed by the
 * 8-byte checksum. Found by a forward scan for the framing only; the full value check is the RDB
 * checker's job (amber-check-rdb).
 */
function findRdbEnd(buf: Buffer): number {
  // The RESP tail starts with '*' (or '#') right after EOF + 8 checksum bytes; scan from the end
  // of the buffer backwards is unreliable with binary values, so look for the first 0xFF whose
  // following 8 bytes end the file or are followed by a RESP command.
  for (let i = 9; i < buf.length; i++) {
    if (buf[i] !== 0xff) continue;
    const after = i + 9;
    if (after === buf.length) return after;
    if (after < buf.length && (buf[after] === 42 || buf[after] === 35)) return after;
  }
  return -1;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const a = await rl.question(question);
  rl.close();
  return a.trim().toLowerCase().startsWith('y');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let fix = false;
  let yes = false;
  let ts: number | null = null;
  let file: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--fix') fix = true;
    else if (a === '--yes' || a === '-y') yes = true;
    else if (a === '--truncate-to-timestamp') {
      ts = Number(args[++i]);
      if (!Number.isInteger(ts)) {
        console.error('Invalid integer value for --truncate-to-timestamp');
        return 1;
      }
    } else if (!file) file = a;
    else {
      console.error('Usage: amber-check-aof [--fix|--truncate-to-timestamp $timestamp] [--yes] <file.manifest|file.aof>');
      return 1;
    }
  }
  if (!file) {
    console.error('Usage: amber-check-aof [--fix|--truncate-to-timestamp $timestamp] [--yes] <file.manifest|file.aof>');
    return 1;
  }
  if (!existsSync(file)) {
    console.error(`Cannot open file ${file}: No such file or directory`);
    return 1;
  }
  let files: Array<{ path: string; kind: string }>;
  if (file.endsWith('.manifest')) {
    console.log('Start checking Multi Part AOF');
    let m: AofManifest;
    try {
      m = AofManifest.parse(readFileSync(file, 'latin1'), file);
    } catch (e) {
      if (e instanceof AofManifestError) {
        console.log(`Invalid AOF manifest file format at line ${e.line}: ${e.reason}`);
        return 1;
      }
      throw e;
    }
    const dir = dirname(file);
    files = [...(m.base ? [{ path: join(dir, m.base.fileName), kind: 'BASE' }] : []), ...m.incr.map((i) => ({ path: join(dir, i.fileName), kind: 'INCR' }))];
    for (const f of files) {
      if (!existsSync(f.path)) {
        console.log(`${f.kind} AOF ${basename(f.path)} doesn't exist`);
        return 1;
      }
    }
  } else {
    files = [{ path: file, kind: 'AOF' }];
  }
  let allOk = true;
  let line = 1;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const last = i === files.length - 1;
    if (f.kind === 'BASE') {
      const rdb = readFileSync(f.path).subarray(0, 5).toString('latin1') === 'REDIS';
      console.log(`Start to check BASE AOF (${rdb ? 'RDB' : 'RESP'} format).`);
    } else if (f.kind === 'INCR' && (i === 0 || files[i - 1]!.kind === 'BASE')) {
      console.log('Start to check INCR files.');
    }
    const rep = checkAofFile(f.path, last ? ts : null, line);
    line = rep.okUpToLine;
    const diff = rep.size - rep.okUpTo;
    console.log(`AOF analyzed: filename=${rep.name}, size=${rep.size}, ok_up_to=${rep.okUpTo}, ok_up_to_line=${rep.okUpToLine}, diff=${diff}`);
    if (rep.tsCut !== null) {
      if (!yes && !(await confirm(`Truncate ${rep.name} to timestamp ${ts}, removing ${rep.size - rep.tsCut} bytes? (y/N): `))) return 1;
      truncateSync(f.path, rep.tsCut);
      console.log(`Successfully truncated AOF ${rep.name} to timestamp ${ts}`);
      continue;
    }
    if (rep.problem === null) {
      console.log(`${f.kind} AOF ${rep.name} is valid`);
      continue;
    }
    console.log(rep.problem);
    allOk = false;
    if (!fix) {
      console.log(`AOF ${rep.name} is not valid. Use the --fix option to try fixing it.`);
      return 1;
    }
    if (!last) {
      console.log(`Only the last file can be fixed by truncation; ${rep.name} is not the last one.`);
      return 1;
    }
    if (!yes && !(await confirm(`This will shrink the AOF ${rep.name} from ${rep.size} bytes, with ${diff} bytes, to ${rep.okUpTo} bytes\nContinue? [y/N]: `))) {
      console.log('Aborting...');
      return 1;
    }
    truncateSync(f.path, rep.okUpTo);
    if (statSync(f.path).size !== rep.okUpTo) {
      console.log('Failed to truncate AOF');
      return 1;
    }
    console.log(`Successfully truncated AOF ${rep.name}`);
    allOk = true;
  }
  if (allOk) console.log(files.length > 1 || file.endsWith('.manifest') ? 'All AOF files and manifest are valid' : '');
  return allOk ? 0 : 1;
}

void main().then((code) => process.exit(code));
