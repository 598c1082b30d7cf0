import { openSync, writeSync, fsyncSync, closeSync, renameSync, readFileSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { splitArgs } from '../../protocol/splitargs.js';
import { fsyncDir } from '../fsutil.js';

/** AOF file types of the manifest: base, history, incr. */
export type AofFileType = 'b' | 'h' | 'i';

/** One line of the manifest: `file <name> seq <n> type b|h|i`. */
export interface AofInfo {
  fileName: string;
  seq: number;
  type: AofFileType;
}

/**
 * A manifest problem, reported as Redis's "FATAL AOF MANIFEST FILE ERROR" (file, line, reason).
 * `text` is the offending line as Redis shows it (trimmed), or null when Redis shows no line
 * (an empty manifest, a line too long or not ended by a newline).
 */
export class AofManifestError extends Error {
  constructor(readonly file: string, readonly line: number, readonly text: string | null, readonly reason: string) {
    super(`${reason} (AOF manifest ${file}, line ${line}${text ? `: '${text}'` : ''})`);
  }
}

/**
 * The Redis 7.0 multi-part AOF manifest (src/aof.c, "AOF Manifest file implementation"): at most
 * one base file, history files waiting for deletion, and the incr files in sequence order.
 * Byte-compatible with Redis: the same grammar, quoting (sdscatrepr when the name needs it), order
 * (base, history, incr), comments (`#`), and unknown keys ignored for forward compatibility.
 */
export class AofManifest {
  base: AofInfo | null = null;
  history: AofInfo[] = [];
  incr: AofInfo[] = [];
  currBaseSeq = 0;
  currIncrSeq = 0;

  /** A deep copy, changed and then swapped in atomically (aofManifestDup). */
  clone(): AofManifest {
    const m = new AofManifest();
    m.base = this.base ? { ...this.base } : null;
    m.history = this.history.map((x) => ({ ...x }));
    m.incr = this.incr.map((x) => ({ ...x }));
    m.currBaseSeq = this.currBaseSeq;
    m.currIncrSeq = this.currIncrSeq;
    return m;
  }

  /** The manifest text (getAofManifestAsString). */
  format(): string {
    let s = '';
    const line = (ai: AofInfo): string => `file ${needsRepr(ai.fileName) ? repr(ai.fileName) : ai.fileName} seq ${ai.seq} type ${ai.type}\n`;
    if (this.base) s += line(this.base);
    for (const h of this.history) s += line(h);
    for (const i of this.incr) s += line(i);
    return s;
  }

  /**
   * Parses manifest text strictly as aofLoadManifestFromFile does.
   * @throws AofManifestError with the line and Redis's reason
   */
  static parse(text: string, file: string): AofManifest {
    const m = new AofManifest();
    let maxSeq = 0;
    const lines = text.split('\n');
    // the element after the last newline: empty for a manifest that ends with one; else a last
    // line without its newline, which Redis's fgets loop refuses as "too long" (unless a comment)
    const unterminated = lines.pop()!;
    if (unterminated !== '') lines.push(unterminated);
    if (lines.length === 0) throw new AofManifestError(file, 0, null, 'Found an empty AOF manifest');
    lines.forEach((raw, idx) => {
      const n = idx + 1;
      if (raw.startsWith('#')) return;
      // fgets into MANIFEST_MAX_LINE + 1 bytes: a line of 1024 bytes or more has no newline in it
      if (raw.length >= 1024 || (unterminated !== '' && idx === lines.length - 1)) {
        throw new AofManifestError(file, n, null, 'The AOF manifest file contains too long line');
      }
      const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '') throw new AofManifestError(file, n, line, 'Invalid AOF manifest file format');
      const argv = splitArgs(line);
      if (argv === null || argv.length < 6 || argv.length % 2) throw new AofManifestError(file, n, line, 'Invalid AOF manifest file format');
      let name: string | null = null;
      let seq = 0;
      let type = '';
      for (let i = 0; i < argv.length; i += 2) {
        const k = argv[i]!.toLowerCase();
        const v = argv[i + 1]!;
        if (k === 'file') {
          name = v;
          if (basename(v) !== v || v === '' || v === '.' || v === '..') throw new AofManifestError(file, n, line, "File can't be a path, just a filename");
        } else if (k === 'seq') {
          seq = atoll(v);
        } else if (k === 'type') {
          type = v[0] ?? '';
        }
      }
      if (!name || !seq || !type) throw new AofManifestError(file, n, line, 'Invalid AOF manifest file format');
      if (type === 'b') {
        if (m.base) throw new AofManifestError(file, n, line, 'Found duplicate base file information');
        m.base = { fileName: name, seq, type: 'b' };
        m.currBaseSeq = seq;
      } else if (type === 'h') {
        m.history.push({ fileName: name, seq, type: 'h' });
      } else if (type === 'i') {
        if (seq <= maxSeq) throw new AofManifestError(file, n, line, 'Found a non-monotonic sequence number');
        m.incr.push({ fileName: name, seq, type: 'i' });
        m.currIncrSeq = seq;
        maxSeq = seq;
      } else {
        throw new AofManifestError(file, n, line, 'Unknown AOF file type');
      }
    });
    return m;
  }

  /** Reads `<dir>/<appendfilename>.manifest`, or returns null when it does not exist. */
  static load(dir: string, appendFilename: string): AofManifest | null {
    const path = join(dir, manifestName(appendFilename));
    if (!existsSync(path)) return null;
    return AofManifest.parse(readFileSync(path, 'latin1'), path);
  }

  /**
   * Writes the manifest durably: temp file, fsync, rename over the manifest, fsync of the
   * directory (writeAofManifestFile). A crash leaves the old or the new manifest, never a torn one.
   * @throws the file-system error, after which the old manifest is still in place
   */
  persist(dir: string, appendFilename: string): void {
    const tmp = join(dir, 'temp-' + manifestName(appendFilename));
    const fd = openSync(tmp, 'w', 0o644);
    try {
      const buf = Buffer.from(this.format(), 'latin1');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, manifestName(appendFilename)));
    fsyncDir(dir);
  }

  /** Marks the current base as history and names a new base (getNewBaseFileNameAndMarkPreAsHistory). */
  newBase(appendFilename: string, rdbPreamble: boolean): AofInfo {
    if (this.base) {
      this.history.unshift({ ...this.base, type: 'h' });
    }
    const seq = ++this.currBaseSeq;
    this.base = { fileName: `${appendFilename}.${seq}.base${rdbPreamble ? '.rdb' : '.aof'}`, seq, type: 'b' };
    return this.base;
  }

  /** Appends a new incr file (getNewIncrAofName). */
  newIncr(appendFilename: string): AofInfo {
    const seq = ++this.currIncrSeq;
    const ai: AofInfo = { fileName: `${appendFilename}.${seq}.incr.aof`, seq, type: 'i' };
    this.incr.push(ai);
    return ai;
  }

  /** The last incr file, or a new one when there is none (getLastIncrAofName). */
  lastIncr(appendFilename: string): AofInfo {
    return this.incr[this.incr.length - 1] ?? this.newIncr(appendFilename);
  }

  /** Moves every incr file but the one being written to history (markRewrittenIncrAofAsHistory). */
  markRewrittenIncrAsHistory(keepLast: boolean): void {
    const keep = keepLast ? this.incr.slice(-1) : [];
    const moved = keepLast ? this.incr.slice(0, -1) : this.incr;
    for (let i = moved.length - 1; i >= 0; i--) this.history.unshift({ ...moved[i]!, type: 'h' });
    this.incr = keep;
  }
}

/** `appendonly.aof.manifest` */
export function manifestName(appendFilename: string): string {
  return appendFilename + '.manifest';
}

/** atoll: leading integer, 0 when none. */
function atoll(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** sdsneedsrepr: true when the name has a char sdscatrepr would escape, or a space. */
function needsRepr(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 34 || c === 10 || c === 13 || c === 9 || c === 7 || c === 8 || c < 33 || c > 126) return true;
  }
  return false;
}

/** sdscatrepr: a double-quoted, escaped representation. */
export function repr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case '"': out += '\\"'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\x07': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      default:
        out += c >= 32 && c <= 126 ? ch : '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return out + '"';
}
