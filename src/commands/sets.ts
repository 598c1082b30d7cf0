/**
 * The set commands, following t_set.c of Redis 7.0.15: same replies in RESP2 and RESP3 (sets
 * as `~` replies where Redis uses addReplySetLen), same errors, same encodings of the results,
 * same keyspace notifications, dirty counts and propagation (SPOP propagates as one SREM per
 * popped member, wrapped in MULTI/EXEC, or as DEL when it empties the set).
 */
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { RedisSet } from '../keyspace/types/set.js';
import { NOTIFY_SET, NOTIFY_GENERIC } from '../keyspace/notify.js';
import { parseInt64, INT64_MIN } from '../util/number.js';
import { stringMatch } from '../util/glob.js';
import { parseScanCursor, parseScanOptions, EMPTY_SCAN } from './hashes.js';

/** SPOP: extract-and-keep strategy when remaining * 5 <= count (SPOP_MOVE_STRATEGY_MUL). */
const SPOP_MOVE_STRATEGY_MUL = 5;
/** SRANDMEMBER: copy-and-remove strategy when count * 3 > size (SRANDMEMBER_SUB_STRATEGY_MUL). */
const SRANDMEMBER_SUB_STRATEGY_MUL = 3;
const RANGE_ERR = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';
const POSITIVE_ERR = 'ERR value is out of range, must be positive';

function maxIntset(c: Client): number {
  return c.server.config.get<number>('set-max-intset-entries');
}

/** Checks a looked-up value: the set, undefined when missing, or null after WRONGTYPE. */
function asSet(c: Client, o: unknown): RedisSet | undefined | null {
  if (o === undefined) return undefined;
  if (!(o instanceof RedisSet)) {
    c.addError(ERR.wrongType);
    return null;
  }
  return o;
}

function notify(c: Client, type: number, event: string, key: string): void {
  c.db.ks.notify(type, event, key, c.db.id);
}

/** SADD key member [member ...]. */
function sadd(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  let set = asSet(c, c.db.lookupWrite(key));
  if (set === null) return;
  const created = set === undefined;
  if (set === undefined) {
    set = RedisSet.create(argv[2]!);
    set.reserve(argv.length - 2);
  }
  const max = maxIntset(c);
  let added = 0;
  for (let j = 2; j < argv.length; j++) if (set.add(argv[j]!, max)) added++;
  if (added > 0) {
    if (created) {
      c.db.setKey(key, set);
      if (added > 1) c.db.ks.dirty += added - 1;
    } else {
      c.db.modified(key, added);
    }
    notify(c, NOTIFY_SET, 'sadd', key);
  }
  c.addInt(added);
}

/**
 * Removes `n` members' worth of changes from the set at `key`: deletes the key when it is empty
 * (dbDelete) or signals it as modified, counting `n` dirty changes either way.
 */
function afterRemove(c: Client, key: string, set: RedisSet, n: number): boolean {
  if (set.size === 0) {
    c.db.deleteKey(key);
    if (n > 1) c.db.ks.dirty += n - 1;
    return true;
  }
  c.db.modified(key, n);
  return false;
}

/** SREM key member [member ...]: deletes the key when it becomes empty. */
function srem(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  const set = asSet(c, c.db.lookupWrite(key));
  if (set === null) return;
  if (set === undefined) {
    c.addInt(0);
    return;
  }
  let deleted = 0;
  for (let j = 2; j < argv.length; j++) {
    if (set.delete(argv[j]!)) {
      deleted++;
      if (set.size === 0) break;
    }
  }
  if (deleted > 0) {
    const removed = afterRemove(c, key, set, deleted);
    notify(c, NOTIFY_SET, 'srem', key);
    if (removed) notify(c, NOTIFY_GENERIC, 'del', key);
  }
  c.addInt(deleted);
}

/** SMOVE source destination member. */
function smove(c: Client): void {
  const argv = c.argv;
  const srcKey = argv[1]!;
  const dstKey = argv[2]!;
  const ele = argv[3]!;
  const srcObj = c.db.lookupWrite(srcKey);
  const dstObj = c.db.lookupWrite(dstKey);
  if (srcObj === undefined) {
    c.addInt(0);
    return;
  }
  const src = asSet(c, srcObj);
  if (src === null) return;
  let dst = asSet(c, dstObj);
  if (dst === null) return;
  if (src === dst) {
    c.addInt(src!.has(ele) ? 1 : 0);
    return;
  }
  if (!src!.delete(ele)) {
    c.addInt(0);
    return;
  }
  notify(c, NOTIFY_SET, 'srem', srcKey);
  if (afterRemove(c, srcKey, src!, 1)) notify(c, NOTIFY_GENERIC, 'del', srcKey);
  const created = dst === undefined;
  if (dst === undefined) dst = RedisSet.create(ele);
  if (dst.add(ele, maxIntset(c))) {
    if (created) c.db.setKey(dstKey, dst);
    else c.db.modified(dstKey, 1);
    notify(c, NOTIFY_SET, 'sadd', dstKey);
  }
  c.addInt(1);
}

/** SISMEMBER key member. */
function sismember(c: Client): void {
  const set = asSet(c, c.db.lookupRead(c.argv[1]!));
  if (set === null) return;
  c.addInt(set !== undefined && set.has(c.argv[2]!) ? 1 : 0);
}

/** SMISMEMBER key member [member ...]: a missing key is an empty set. */
function smismember(c: Client): void {
  const argv = c.argv;
  const set = asSet(c, c.db.lookupRead(argv[1]!));
  if (set === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) c.addInt(set !== undefined && set.has(argv[j]!) ? 1 : 0);
}

/** SCARD key. */
function scard(c: Client): void {
  const set = asSet(c, c.db.lookupRead(c.argv[1]!));
  if (set === null) return;
  c.addInt(set === undefined ? 0 : set.size);
}

function emitMember(c: Client, m: string): void {
  c.addBulk(m);
}

/** SPOP key [count]. */
function spop(c: Client): void {
  const argv = c.argv;
  if (argv.length === 3) {
    spopWithCount(c);
    return;
  } else if (argv.length > 3) {
    c.addError(ERR.syntax);
    return;
  }
  const key = argv[1]!;
  const set = asSet(c, c.db.lookupWrite(key));
  if (set === null) return;
  if (set === undefined) {
    c.addNull();
    return;
  }
  const ele = set.pop();
  notify(c, NOTIFY_SET, 'spop', key);
  c.server.effects.rewrite(['SREM', key, ele]);
  c.addBulk(ele);
  if (afterRemove(c, key, set, 1)) notify(c, NOTIFY_GENERIC, 'del', key);
}

function spopWithCount(c: Client): void {
  const argv = c.argv;
  // getPositiveLongFromObjectOrReply: a non-integer gets the same message as a negative
  const l = parseInt64(argv[2]!);
  if (l === null || l < 0n) {
    c.addError(POSITIVE_ERR);
    return;
  }
  const key = argv[1]!;
  const set = asSet(c, c.db.lookupWrite(key));
  if (set === null) return;
  if (set === undefined || l === 0n) {
    c.addSetLen(0);
    return;
  }
  const size = set.size;
  notify(c, NOTIFY_SET, 'spop', key);
  const effects = c.server.effects;
  // CASE 1: count >= size: the whole set, as SUNION of the key would reply it, then DEL
  if (l >= BigInt(size)) {
    c.db.lookupRead(key); // sunionDiffGenericCommand looks the key up again (a keyspace hit)
    const tmp = new RedisSet(true);
    const max = maxIntset(c);
    for (const m of set.members()) tmp.add(m, max);
    c.addSetLen(tmp.size);
    tmp.forEach(emitMember, c);
    c.db.deleteKey(key);
    if (size > 1) c.db.ks.dirty += size - 1;
    notify(c, NOTIFY_GENERIC, 'del', key);
    effects.rewrite(['DEL', key]);
    return;
  }
  // Cases 2 and 3 propagate one SREM per member (alsoPropagate), wrapped in MULTI/EXEC by the
  // effect stream, and not the SPOP itself.
  const count = Number(l);
  const propagate = effects.active;
  const db = c.db.id;
  effects.prevent();
  c.addSetLen(count);
  let remaining = size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    // CASE 2: few elements: extract them one by one
    for (let i = 0; i < count; i++) {
      const ele = set.pop();
      c.addBulk(ele);
      if (propagate) effects.propagate(db, ['SREM', key, ele]);
    }
    c.db.modified(key, count);
  } else {
    // CASE 3: most of the set: move the survivors into a new set, return the old one
    let newset: RedisSet | null = null;
    const max = maxIntset(c);
    while (remaining-- > 0) {
      const ele = set.pop();
      if (newset === null) newset = RedisSet.create(ele);
      newset.add(ele, max);
    }
    set.forEach(emitMember, c);
    if (propagate) for (const ele of set.members()) effects.propagate(db, ['SREM', key, ele]);
    c.db.setKey(key, newset!, 'keep'); // dbOverwrite: the TTL stays
    if (count > 1) c.db.ks.dirty += count - 1;
  }
}

/** SRANDMEMBER key [count]. */
function srandmember(c: Client): void {
  const argv = c.argv;
  if (argv.length === 3) {
    srandmemberWithCount(c);
    return;
  } else if (argv.length > 3) {
    c.addError(ERR.syntax);
    return;
  }
  const set = asSet(c, c.db.lookupRead(argv[1]!));
  if (set === null) return;
  if (set === undefined) c.addNull();
  else c.addBulk(set.random());
}

function srandmemberWithCount(c: Client): void {
  const l = parseInt64(c.argv[2]!);
  if (l === null) {
    c.addError(ERR.notInteger);
    return;
  }
  if (l === INT64_MIN) {
    c.addError(RANGE_ERR);
    return;
  }
  const uniq = l >= 0n;
  const countBig = uniq ? l : -l;
  const set = asSet(c, c.db.lookupRead(c.argv[1]!));
  if (set === null) return;
  if (set === undefined || countBig === 0n) {
    c.addArrayLen(0);
    return;
  }
  const size = set.size;
  // CASE 1: negative count (repeats allowed) or a single element
  if (!uniq || countBig === 1n) {
    const count = Number(countBig);
    c.addArrayLen(count);
    for (let i = 0; i < count; i++) c.addBulk(set.random());
    return;
  }
  // CASE 2: count >= size: the whole set, in its order
  if (countBig >= BigInt(size)) {
    c.addArrayLen(size);
    set.forEach(emitMember, c);
    return;
  }
  const count = Number(countBig);
  c.addArrayLen(count);
  if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
    // CASE 3: copy, keep `count` random members
    const all = Array.from(set.members());
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (all.length - i));
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
      c.addBulk(all[i]!);
    }
    return;
  }
  // CASE 4: collect distinct random members
  const picked = new Set<string>();
  while (picked.size < count) picked.add(set.random());
  for (const m of picked) c.addBulk(m);
}

/**
 * Looks up the sets of `keys` (a missing key is null, an empty set). Returns null after
 * replying WRONGTYPE.
 */
function lookupSets(c: Client, keys: readonly string[], from: number, to: number): Array<RedisSet | null> | null {
  const sets: Array<RedisSet | null> = [];
  for (let j = from; j < to; j++) {
    const o = c.db.lookupRead(keys[j]!);
    if (o === undefined) {
      sets.push(null);
      continue;
    }
    if (!(o instanceof RedisSet)) {
      c.addError(ERR.wrongType);
      return null;
    }
    sets.push(o);
  }
  return sets;
}

/** Stores a *STORE result: the set, or a delete of `dst` when it is empty. */
function storeResult(c: Client, dst: string, result: RedisSet, event: string): void {
  if (result.size > 0) {
    c.db.setKey(dst, result);
    c.addInt(result.size);
    notify(c, NOTIFY_SET, event, dst);
  } else {
    c.addInt(0);
    if (c.db.deleteKey(dst)) notify(c, NOTIFY_GENERIC, 'del', dst);
  }
}

/**
 * SINTER, SINTERSTORE, SINTERCARD and SMEMBERS (sinterGenericCommand): keys are argv[from..to).
 * `dst` stores the result; `cardOnly` replies the cardinality, stopping at `limit` (0: none).
 */
function sinterGeneric(c: Client, from: number, to: number, dst: string | null, cardOnly: boolean, limit: number): void {
  const found = lookupSets(c, c.argv, from, to);
  if (found === null) return;
  if (found.some((s) => s === null)) {
    // an intersection with an empty set is empty
    if (dst !== null) {
      if (c.db.deleteKey(dst)) notify(c, NOTIFY_GENERIC, 'del', dst);
      c.addInt(0);
    } else if (cardOnly) {
      c.addInt(0);
    } else {
      c.addSetLen(0);
    }
    return;
  }
  const sets = found as RedisSet[];
  // smallest first (qsortCompareSetsByCardinality; a stable sort, as glibc's qsort is here)
  sets.sort((a, b) => a.size - b.size);
  const first = sets[0]!;
  const result: string[] = [];
  let cardinality = 0;
  const dstSet = dst !== null ? new RedisSet(true) : null; // createIntsetObject, converted as needed
  const max = dst !== null ? maxIntset(c) : 0;
  for (const m of first.members()) {
    let j = 1;
    for (; j < sets.length; j++) {
      const s = sets[j]!;
      if (s === first) continue;
      if (!s.has(m)) break;
    }
    if (j !== sets.length) continue;
    if (cardOnly) {
      cardinality++;
      if (limit !== 0 && cardinality >= limit) break;
    } else if (dstSet !== null) {
      dstSet.add(m, max);
    } else {
      result.push(m);
    }
  }
  if (cardOnly) c.addInt(cardinality);
  else if (dstSet !== null) storeResult(c, dst!, dstSet, 'sinterstore');
  else {
    c.addSetLen(result.length);
    for (let i = 0; i < result.length; i++) c.addBulk(result[i]!);
  }
}

const UNION = 0;
const DIFF = 1;

/** SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE (sunionDiffGenericCommand): keys are argv[from..to). */
function sunionDiffGeneric(c: Client, from: number, to: number, dst: string | null, op: number): void {
  const sets = lookupSets(c, c.argv, from, to);
  if (sets === null) return;
  let sameset = false;
  for (let j = 1; j < sets.length; j++) if (sets[j] !== null && sets[j] === sets[0]) sameset = true;
  let algo = 1;
  const first = sets[0] ?? null;
  if (op === DIFF && first !== null && !sameset) {
    let one = 0;
    let two = 0;
    for (const s of sets) {
      if (s === null) continue;
      one += first.size;
      two += s.size;
    }
    one = Math.floor(one / 2);
    algo = one <= two ? 1 : 2;
    if (algo === 1 && sets.length > 1) {
      // subtract the largest sets first (qsortCompareSetsByRevCardinality; nulls count as 0)
      const rest = sets.slice(1).sort((a, b) => (b === null ? 0 : b.size) - (a === null ? 0 : a.size));
      for (let j = 1; j < sets.length; j++) sets[j] = rest[j - 1]!;
    }
  }
  const max = maxIntset(c);
  const out = new RedisSet(true);
  if (op === UNION) {
    for (const s of sets) if (s !== null) for (const m of s.members()) out.add(m, max);
  } else if (sameset || first === null) {
    // the difference of a set with itself, or of a missing set, is empty
  } else if (algo === 1) {
    for (const m of first.members()) {
      let j = 1;
      for (; j < sets.length; j++) {
        const s = sets[j];
        if (s === null || s === undefined) continue;
        if (s === first) break;
        if (s.has(m)) break;
      }
      if (j === sets.length) out.add(m, max);
    }
  } else {
    for (let j = 0; j < sets.length; j++) {
      const s = sets[j];
      if (s === null || s === undefined) continue;
      if (j === 0) for (const m of s.members()) out.add(m, max);
      else for (const m of s.members()) out.delete(m);
      if (out.size === 0) break;
    }
  }
  if (dst === null) {
    c.addSetLen(out.size);
    out.forEach(emitMember, c);
  } else {
    storeResult(c, dst, out, op === UNION ? 'sunionstore' : 'sdiffstore');
  }
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit]. */
function sintercard(c: Client): void {
  const argv = c.argv;
  const nk = parseInt64(argv[1]!);
  if (nk === null || nk < 1n) {
    c.addError('ERR numkeys should be greater than 0');
    return;
  }
  if (nk > BigInt(argv.length - 2)) {
    c.addError("ERR Number of keys can't be greater than number of args");
    return;
  }
  const numkeys = Number(nk);
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (argv[j]!.toLowerCase() === 'limit' && more > 0) {
      j++;
      const v = parseInt64(argv[j]!);
      if (v === null || v < 0n) {
        c.addError("ERR LIMIT can't be negative");
        return;
      }
      limit = Number(v);
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  sinterGeneric(c, 2, 2 + numkeys, null, true, limit);
}

function collectMember(out: string[], m: string): void {
  out.push(m);
}

/** SSCAN key cursor [MATCH pattern] [COUNT count]. */
function sscan(c: Client): void {
  const argv = c.argv;
  const cursor = parseScanCursor(argv[2]!);
  if (cursor === null) {
    c.addError('ERR invalid cursor');
    return;
  }
  const set = asSet(c, c.db.lookupRead(argv[1]!));
  if (set === null) return;
  if (set === undefined) {
    c.addRaw(EMPTY_SCAN);
    return;
  }
  const opts = parseScanOptions(c, 3);
  if (opts === null) return;
  let out: string[] = [];
  let next = 0;
  if (set.is !== null) {
    // an intset is returned whole, whatever the cursor
    set.forEach(collectMember, out);
  } else {
    let maxIterations = opts.count * 10;
    let cur = Number(cursor & 0xffffffffn);
    do {
      cur = set.ht!.scan(cur, collectMember, out);
    } while (cur !== 0 && maxIterations-- > 0 && out.length < opts.count);
    next = cur;
  }
  const pat = opts.pattern;
  if (pat !== null) out = out.filter((m) => stringMatch(pat, m, false));
  c.addArrayLen(2);
  c.addBulk(String(next));
  c.addBulkArray(out);
}

/** Handlers of the sets command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const setsCommands: Record<string, Handler> = {
  sadd,
  srem,
  smove,
  sismember,
  smismember,
  scard,
  spop,
  srandmember,
  smembers: (c) => sinterGeneric(c, 1, 2, null, false, 0),
  sinter: (c) => sinterGeneric(c, 1, c.argv.length, null, false, 0),
  sinterstore: (c) => sinterGeneric(c, 2, c.argv.length, c.argv[1]!, false, 0),
  sintercard,
  sunion: (c) => sunionDiffGeneric(c, 1, c.argv.length, null, UNION),
  sunionstore: (c) => sunionDiffGeneric(c, 2, c.argv.length, c.argv[1]!, UNION),
  sdiff: (c) => sunionDiffGeneric(c, 1, c.argv.length, null, DIFF),
  sdiffstore: (c) => sunionDiffGeneric(c, 2, c.argv.length, c.argv[1]!, DIFF),
  sscan,
};
