/**
 * The canonical JSON form of a keyspace, line for line what `../shared/tools/keyspace-dump.mjs`
 * prints for a server holding the same data: one JSON line per key, sorted by db then key, bytes
 * as code points 0-255. Used by `amber-check-rdb --dump` and by tests to compare a decoded file
 * with the keyspace Redis showed after loading it, without going through commands.
 */
import type { Value } from '../../keyspace/types/object.js';
import { formatDouble } from '../../util/number.js';
import { formatStreamKey, formatStreamId } from '../../keyspace/types/stream.js';
import { valueKind } from './values.js';

/** A key as keyspace-dump.mjs describes it. */
export interface DumpLine {
  db: number;
  key: string;
  type: string;
  /** Unix ms, or -1 */
  pexpiretime: number;
  value: unknown;
}

/** The keyspace-dump value of one stored value. */
export function dumpValue(v: Value): { type: string; value: unknown } {
  const k = valueKind(v);
  switch (k.kind) {
    case 'string':
      return { type: 'string', value: k.value };
    case 'list':
      return { type: 'list', value: [...k.items] };
    case 'set-intset':
      return { type: 'set', value: k.values.map(String).sort() };
    case 'set':
      return { type: 'set', value: [...k.members].sort() };
    case 'hash':
    case 'hash-listpack': {
      const pairs = [...k.pairs].map(([f, x]) => [f, x] as [string, string]);
      pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      return { type: 'hash', value: pairs };
    }
    case 'zset':
    case 'zset-listpack': {
      const out: Array<[string, string]> = [];
      k.zset.forEach((m, s) => out.push([m, formatDouble(s)]));
      return { type: 'zset', value: out };
    }
    case 'stream': {
      const s = k.stream;
      const entries: Array<[string, string[]]> = [];
      for (const [id, fields] of s.entries.entries()) entries.push([formatStreamKey(id), fields.slice()]);
      const groups = s.sortedGroups().map((g) => [g.name, formatStreamId(g.lastId), g.pel.size]);
      groups.sort();
      return { type: 'stream', value: { entries, groups } };
    }
  }
}

/** The JSON line of one key. */
export function dumpLine(db: number, key: string, v: Value, pexpiretime: number): string {
  const { type, value } = dumpValue(v);
  const line: DumpLine = { db, key, type, pexpiretime, value };
  return JSON.stringify(line);
}

/** Minimal view of a database for {@link dumpDatabases}. */
export interface DumpSource {
  entries(): IterableIterator<[string, Value]>;
  getExpire(key: string): number;
}

/**
 * Every key of `dbs` as keyspace-dump lines (keys already expired at `now` are left out, as a
 * server would not show them).
 */
export function dumpDatabases(dbs: DumpSource[], now = Date.now()): string[] {
  const out: string[] = [];
  dbs.forEach((db, i) => {
    const keys: Array<[string, Value]> = [];
    for (const [k, v] of db.entries()) {
      const t = db.getExpire(k);
      if (t !== -1 && t <= now) continue;
      keys.push([k, v]);
    }
    keys.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [k, v] of keys) out.push(dumpLine(i, k, v, db.getExpire(k)));
  });
  return out;
}
