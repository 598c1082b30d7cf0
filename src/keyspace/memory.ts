import type { Value, RObject } from './types/object.js';
import type { Hash } from './types/hash.js';
import type { RedisSet } from './types/set.js';
import type { ZSet } from './types/zset.js';
import type { ListObject } from './types/list.js';
import type { Stream, StreamNode } from './types/stream.js';

/**
 * Heap-size estimates of keys and values, in bytes, for maxmemory accounting and MEMORY USAGE.
 *
 * Redis counts what malloc hands out; V8 offers nothing per object, so Amber estimates from the
 * shapes it knows: a one-byte JS string costs a 16-byte header plus its bytes rounded up to 8; a
 * key costs its string and its slots in a segment Map, the access-clock table and the expires
 * Map when it has a TTL; a collection costs a header plus, per element, its strings and a
 * per-encoding overhead. The per-element overheads were measured on Node 20 x64 (heap growth
 * after a full GC per 200,000 elements, 2026-11-21): strings of 10 to 100 bytes within 3%, small
 * and big hashes, sets, sorted sets, lists and streams within about 10%.
 *
 * Big collections are estimated from a sample of their first `samples` elements, as Redis's
 * objectComputeSize (src/object.c) does for MEMORY USAGE: element count times the sample's
 * average, so an estimate costs O(samples), not O(elements).
 */

/** Elements sampled per collection by default (OBJ_COMPUTE_SIZE_DEF_SAMPLES). */
export const DEFAULT_SAMPLES = 5;

/** A key's slots outside its strings: segment Map entry, access clock, share of the Map's table. */
const KEY_ENTRY = 56;
/** A TTL: an expires Map entry and the boxed double of its time. */
export const EXPIRE_ENTRY = 50;
/** An object header with its fields and first internal arrays or maps. */
const OBJECT_HEADER = 300;
/** A set's hash table of segments (SetDict), empty. */
const SET_DICT_HEADER = 630;
/** A list's header and its first page's ring. */
const LIST_HEADER = 840;

/** Per-element overhead, bytes, beyond the element's own string bytes, by type and encoding. */
const PER_ELEMENT = {
  hashListpack: 36, hashDict: 77,
  setIntset: 2, setPacked: 50, setDict: 48,
  zsetListpack: 96, zsetSkiplist: 118,
  list: 10,
  streamEntry: 100, streamField: 20,
} as const;

/** Bytes of a one-byte JS string of `len` chars: header plus the data rounded up to 8. */
export function stringBytes(len: number): number {
  return 16 + ((len + 7) & ~7);
}

/** Bytes a key costs besides its value: its name and its slots in the database's tables. */
export function keyBytes(key: string): number {
  return KEY_ENTRY + stringBytes(key.length);
}

/** Estimated bytes of a value: strings by the formula, collections sampled. */
export function valueBytes(v: Value, samples = DEFAULT_SAMPLES): number {
  return typeof v === 'string' ? stringBytes(v.length) : objectBytes(v, samples);
}

/**
 * {@link valueBytes} with the default samples, recorded in a collection's `mem`: what the
 * dataset accounting adds for a value, and subtracts again when it leaves or changes. A
 * collection is sampled again only when its element count moved by a sixteenth since its last
 * sample (`memCount`): a write to a big collection then costs a field read, not a sample, and
 * its estimate trails by at most ~6% (the GC measure corrects the rest, server/maxmemory.ts).
 * `resample` forces a new sample (a full count, when the recorded one may be from long ago).
 */
export function recordValueBytes(v: Value, resample = false): number {
  if (typeof v === 'string') return stringBytes(v.length);
  const n = elementCount(v);
  const last = v.memCount;
  if (!resample && v.mem !== 0 && last > 16 && Math.abs(n - last) * 16 < last) return v.mem;
  v.memCount = inPackedForm(v) ? MEM_COUNT_PACKED : n;
  return (v.mem = objectBytes(v, DEFAULT_SAMPLES));
}

/**
 * `memCount` of a collection estimated in the packed form an RDB load leaves it in (a zset's or a
 * hash's listpack, a set's members) until its first use builds the real structure: not a count, so the
 * next estimate always samples again, and a lookup of the key has the keyspace check it after
 * the command (Keyspace.settlePacked), since that first use grows it without any write.
 */
export const MEM_COUNT_PACKED = -1;

/** True while a collection is still in the packed form of an RDB load (estimated as such). */
export function inPackedForm(o: RObject): boolean {
  return (o.type === 'zset' && (o as ZSet).packedLength >= 0) || (o.type === 'set' && (o as RedisSet).packedMembers !== null) ||
    (o.type === 'hash' && (o as Hash).packedListpack !== null);
}

/** Elements of a collection (fields, members, list items, stream entries). */
export function elementCount(o: RObject): number {
  switch (o.type) {
    case 'hash': return (o as Hash).size;
    case 'set': return (o as RedisSet).size;
    case 'zset': return (o as ZSet).size;
    case 'list': return (o as ListObject).length;
    case 'stream': return (o as Stream).entries.size;
  }
}

/**
 * Estimated bytes of a collection from a sample of at most `samples` elements (0: every
 * element, as MEMORY USAGE SAMPLES 0).
 */
export function objectBytes(o: RObject, samples = DEFAULT_SAMPLES): number {
  switch (o.type) {
    case 'hash': {
      const h = o as Hash;
      // a packed hash is estimated from its bytes: sampling its pairs would unpack it
      const packed = h.packedListpack;
      if (packed !== null) return OBJECT_HEADER + h.size * PER_ELEMENT.hashListpack + stringBytes(packed.length);
      const per = h.isListpack() ? PER_ELEMENT.hashListpack : PER_ELEMENT.hashDict;
      return OBJECT_HEADER + sampled(h.pairs(), h.size, samples, per, pairBytes);
    }
    case 'set': {
      const s = o as RedisSet;
      if (s.is !== null) return OBJECT_HEADER + s.size * PER_ELEMENT.setIntset + stringBytes(s.is.length);
      const packed = s.packedMembers;
      if (packed !== null) return OBJECT_HEADER + s.size * PER_ELEMENT.setPacked + stringBytes(packed.length);
      return SET_DICT_HEADER + sampled(s.members(), s.size, samples, PER_ELEMENT.setDict, stringBytes1);
    }
    case 'zset': {
      const z = o as ZSet;
      const packed = z.packedLength;
      if (packed >= 0) return OBJECT_HEADER + z.size * 8 + stringBytes(packed);
      const per = z.listpack ? PER_ELEMENT.zsetListpack : PER_ELEMENT.zsetSkiplist;
      return OBJECT_HEADER + sampled(z.entries(), z.size, samples, per, (e) => e[0].length);
    }
    case 'list': {
      const l = o as ListObject;
      return LIST_HEADER + sampled(l[Symbol.iterator](), l.length, samples, PER_ELEMENT.list, stringBytes1);
    }
    case 'stream': {
      const st = o as Stream;
      let bytes = OBJECT_HEADER + sampled(st.entries.entries(), st.entries.size, samples, PER_ELEMENT.streamEntry, streamEntryBytes);
      // deleted entries their nodes still hold, as Redis's listpacks keep them until the node goes
      const nodes = st.layout?.nodes;
      if (nodes !== undefined) {
        let dead = 0;
        for (const n of nodes) dead += n.tombstones?.length ?? 0;
        if (dead > 0) bytes += sampled(tombstones(nodes), dead, samples, PER_ELEMENT.streamEntry, streamEntryBytes);
      }
      // consumer groups: a header each plus their pending entries (not sampled: usually few)
      for (const g of st.groups.values()) {
        bytes += OBJECT_HEADER + g.pel.size * 2 * PER_ELEMENT.streamEntry;
        for (const c of g.consumers.values()) bytes += OBJECT_HEADER / 2 + c.name.length;
      }
      return bytes;
    }
  }
}

function stringBytes1(s: string): number {
  return s.length;
}

function pairBytes(p: [string, string]): number {
  return p[0].length + p[1].length;
}

function* tombstones(nodes: StreamNode[]): Generator<[string, string[]]> {
  for (const n of nodes) if (n.tombstones !== null) yield* n.tombstones;
}

function streamEntryBytes(e: [string, string[]]): number {
  const fields = e[1];
  let n = e[0].length + fields.length * PER_ELEMENT.streamField;
  for (let i = 0; i < fields.length; i++) n += fields[i]!.length;
  return n;
}

/**
 * `count` elements at `perElement` bytes each plus their data bytes, the data extrapolated from
 * the first `samples` elements of `it` (all of them when samples is 0 or covers the count).
 */
function sampled<T>(it: Iterator<T>, count: number, samples: number, perElement: number, dataBytes: (e: T) => number): number {
  if (count === 0) return 0;
  const limit = samples <= 0 || samples > count ? count : samples;
  let data = 0;
  let seen = 0;
  while (seen < limit) {
    const r = it.next();
    if (r.done === true) break;
    data += dataBytes(r.value);
    seen++;
  }
  if (seen < count && it.return) it.return();
  const avg = seen === 0 ? 0 : data / seen;
  return Math.round(count * (perElement + avg));
}
