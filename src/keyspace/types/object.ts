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
