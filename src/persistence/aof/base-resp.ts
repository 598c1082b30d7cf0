import type { SnapshotFormat } from '../snapshot.js';
import type { Value } from '../../keyspace/types/object.js';
import { respCommand } from './writer.js';
import { formatDouble } from '../../util/number.js';

/** Items per command when a collection is rewritten (AOF_REWRITE_ITEMS_PER_CMD). */
export const AOF_REWRITE_ITEMS_PER_CMD = 64;

/**
 * The RESP form of an AOF base (`aof-use-rdb-preamble no`), as rewriteAppendOnlyFileRio in
 * src/aof.c writes it: `SELECT db` per database, then per key the commands that rebuild it
 * (SET; RPUSH, SADD, ZADD, HMSET in batches of 64 items; streams with XADD, XSETID, XGROUP
 * CREATE, XCLAIM...), then `PEXPIREAT key ms` when it has a TTL.
 */
export function respBaseFormat(): SnapshotFormat {
  return {
    beginDb: (db) => respCommand(['SELECT', String(db)]),
    entry: (_db, key, value, expireAt) => {
      let s = rewriteValue(key, value);
      if (expireAt !== -1) s += respCommand(['PEXPIREAT', key, String(expireAt)]);
      return s;
    },
  };
}

/** Duck-typed views of the collection types, so this module does not depend on their internals. */
interface ListLike { type: 'list'; values?(): Iterable<string>; [Symbol.iterator]?(): Iterator<string> }
interface SetLike { type: 'set'; members(): Iterable<string> }
interface HashLike { type: 'hash'; pairs(): Iterable<[string, string]> }
interface ZsetLike { type: 'zset'; entries?(): Iterable<[string, number]>; size?: number; memberAt?(r: number): string; scoreAt?(r: number): number; length?: number }

/** Commands that rebuild one key's value (rewriteAppendOnlyFileRio's per-type functions). */
export function rewriteValue(key: string, value: Value): string {
  if (typeof value === 'string') return respCommand(['SET', key, value]);
  switch (value.type) {
    case 'list':
      return batched('RPUSH', key, listItems(value as unknown as ListLike), (x, out) => out.push(x));
    case 'set':
      return batched('SADD', key, (value as unknown as SetLike).members(), (x, out) => out.push(x));
    case 'hash':
      return batched('HMSET', key, (value as unknown as HashLike).pairs(), ([f, v], out) => out.push(f, v));
    case 'zset':
      return batched('ZADD', key, zsetEntries(value as unknown as ZsetLike), ([m, sc], out) => out.push(formatDouble(sc), m));
    case 'stream':
      return rewriteStream(key, value);
  }
}

function batched<T>(cmd: string, key: string, items: Iterable<T>, push: (item: T, out: string[]) => void): string {
  let s = '';
  let argv: string[] = [cmd, key];
  let n = 0;
  for (const it of items) {
    push(it, argv);
    if (++n === AOF_REWRITE_ITEMS_PER_CMD) {
      s += respCommand(argv);
      argv = [cmd, key];
      n = 0;
    }
  }
  if (n > 0) s += respCommand(argv);
  return s;
}

function listItems(l: ListLike): Iterable<string> {
  if (typeof l.values === 'function') return l.values();
  if (typeof l[Symbol.iterator] === 'function') return l as Iterable<string>;
  throw new Error('the list type offers no iteration for the AOF rewrite');
}

function* zsetEntries(z: ZsetLike): Iterable<[string, number]> {
  if (typeof z.entries === 'function') {
    yield* z.entries();
    return;
  }
  const n = z.size ?? z.length ?? 0;
  for (let r = 0; r < n; r++) yield [z.memberAt!(r), z.scoreAt!(r)];
}

/** Streams are rewritten by the stream layer's own function when it registers one. */
let streamRewriter: ((key: string, value: Value) => string) | null = null;

/** Registers the stream rewrite (XADD..., XSETID, XGROUP CREATE, XCLAIM), owned by the streams layer. */
export function setStreamRewriter(fn: (key: string, value: Value) => string): void {
  streamRewriter = fn;
}

function rewriteStream(key: string, value: Value): string {
  if (streamRewriter === null) throw new Error(`cannot rewrite stream key '${key}' as RESP: no stream rewriter registered`);
  return streamRewriter(key, value);
}
