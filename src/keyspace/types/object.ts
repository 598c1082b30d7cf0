/** Redis type names as TYPE reports them. */
export type RedisType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream';

/**
 * Base of every non-string value. A string value is stored as the JS latin1 string itself (no
 * wrapper, see DESIGN.md "Keys and values"); every other type is an instance of a subclass.
 */
export abstract class RObject {
  abstract readonly type: Exclude<RedisType, 'string'>;
  /** access clock (robj.lru): LRU clock or LFU time+counter, kept by the gate; see lru.ts */
  lru = 0;
  /** estimated bytes recorded by the maxmemory accounting (keyspace/memory.ts valueBytes) */
  mem = 0;
  /** element count when `mem` was last sampled, or MEM_COUNT_PACKED (keyspace/memory.ts recordValueBytes) */
  memCount = 0;
  /**
   * LevelDB engine (src/persistence/leveldb/): version of this value's element records in the
   * store, 0 while it has none (the engine off, or a value not yet written through)
   */
  ldb = 0;
  /** LevelDB engine: store position of a list's first element at the last write-through */
  ldbHead = 0;
  /** OBJECT ENCODING name Redis 7.0 would report for the same contents */
  abstract encoding(): string;
  /** A deep copy, for COPY. */
  abstract clone(): RObject;
}

/** A stored value: a latin1 string (type string) or a collection object. */
export type Value = string | RObject;

/** The TYPE name of a value. */
export function typeOf(v: Value): RedisType {
  return typeof v === 'string' ? 'string' : v.type;
}

/**
 * Element-level change capture for the LevelDB engine: the collection types report every element
 * they change in a value written through to the store (`ldb !== 0`), so that the engine writes
 * O(1) records for a change of one field of a big collection. The types call it before the change.
 */
export interface ChangeRecorder {
  /** hash field or set member `name` of `o` is about to be set or removed */
  element(o: RObject, name: string): void;
  /** zset member `member` of `o` is about to leave score `score` (removal or score update) */
  zsetRemove(o: RObject, member: string, score: number): void;
  /** zset member `member` is about to be inserted into `o` */
  zsetInsert(o: RObject, member: string): void;
  /** one element is about to be pushed at the head (or tail) of list `o` */
  listPush(o: RObject, head: boolean): void;
  /** `n` elements are about to be removed from the head (or tail) of list `o` */
  listPop(o: RObject, head: boolean, n: number): void;
  /** the element at `index` of list `o` is about to be replaced */
  listSet(o: RObject, index: number): void;
  /** `o` changes in a way not reported element by element: the engine rewrites it whole */
  whole(o: RObject): void;
}

/** The active recorder, or null when no LevelDB engine runs (the types then report nothing). */
export const changeCapture: { recorder: ChangeRecorder | null } = { recorder: null };
