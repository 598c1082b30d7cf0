import { createHash } from 'node:crypto';
import type { Keyspace } from './keyspace.js';
import type { Database } from './database.js';
import type { Value } from './types/object.js';
import type { ListObject } from './types/list.js';
import type { RedisSet } from './types/set.js';
import type { Hash } from './types/hash.js';
import type { ZSet } from './types/zset.js';
import { type Stream, formatStreamKey } from './types/stream.js';
import { formatDouble } from '../util/number.js';

/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE as Redis 7.0 computes them (computeDatasetDigest and
 * xorObjectDigest in src/debug.c), so that a digest taken in Amber equals the one redis-server
 * 7.0.15 gives for the same dataset: SHA-1 based, order-free where the type is unordered (keys,
 * set members, hash fields, zset members are XORed), order-sensitive where it is ordered (list
 * elements, stream entries are mixed in sequence). A digest is 20 bytes; the replies print it as
 * 40 lower-case hex digits. Logically expired keys not yet removed count, as in Redis (the
 * digest reads the table, not through expiry).
 */

/** Redis's object type codes (OBJ_STRING...), mixed into each key's digest. */
const TYPE_CODE = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 } as const;

const EXPIRE_MARK = Buffer.from('!!expire!!', 'latin1');

function sha1(data: Uint8Array): Buffer {
  return createHash('sha1').update(data).digest();
}

/** digest ^= SHA1(data) (xorDigest): the order of the XORed items does not matter. */
function xorDigest(digest: Buffer, data: Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < 20; i++) digest[i]! ^= h[i]!;
}

/** digest = SHA1(digest ^ SHA1(data)) (mixDigest): the order of the mixed items matters. */
function mixDigest(digest: Buffer, data: Uint8Array): void {
  xorDigest(digest, data);
  sha1(digest).copy(digest);
}

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A 4-byte big-endian integer (htonl), as Redis mixes type codes and db ids. */
function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Mixes `value` (and the expire mark when `hasExpire`) into `digest` (xorObjectDigest). */
function objectDigest(digest: Buffer, value: Value, hasExpire: boolean): void {
  if (typeof value === 'string') {
    mixDigest(digest, be32(TYPE_CODE.string));
    mixDigest(digest, bytes(value));
  } else {
    mixDigest(digest, be32(TYPE_CODE[value.type]));
    switch (value.type) {
      case 'list':
        for (const e of value as ListObject) mixDigest(digest, bytes(e));
        break;
      case 'set':
        for (const m of (value as RedisSet).members()) xorDigest(digest, bytes(m));
        break;
      case 'zset':
        for (const [m, score] of (value as ZSet).entries()) {
          const ele = Buffer.alloc(20);
          mixDigest(ele, bytes(m));
          mixDigest(ele, bytes(formatDouble(score)));
          xorDigest(digest, ele);
        }
        break;
      case 'hash':
        for (const [f, v] of (value as Hash).pairs()) {
          const ele = Buffer.alloc(20);
          mixDigest(ele, bytes(f));
          mixDigest(ele, bytes(v));
          xorDigest(digest, ele);
        }
        break;
      case 'stream':
        for (const [k, fields] of (value as Stream).entries.entries()) {
          // the ID as "%U.%U": milliseconds, a dot, the sequence
          mixDigest(digest, bytes(formatStreamKey(k).replace('-', '.')));
          for (let i = 0; i < fields.length; i++) mixDigest(digest, bytes(fields[i]!));
        }
        break;
    }
  }
  if (hasExpire) xorDigest(digest, EXPIRE_MARK);
}

/**
 * The digest of one key's value in `db` (DEBUG DIGEST-VALUE): 40 hex digits, all zeros when the
 * key does not exist. The key's name is not part of it.
 */
export function valueDigest(db: Database, key: string): string {
  const digest = Buffer.alloc(20);
  const v = db.segmentOf(key).get(key);
  if (v !== undefined) objectDigest(digest, v, db.expires.has(key));
  return digest.toString('hex');
}

/**
 * The digest of the whole dataset (DEBUG DIGEST): 40 hex digits, all zeros for an empty one.
 * Each non-empty db mixes in its index, then XORs in the SHA-1 of every key's digest (its name
 * mixed with its value's digest).
 */
export function datasetDigest(ks: Keyspace): string {
  const final = Buffer.alloc(20);
  for (const db of ks.dbs) {
    if (db.size === 0) continue;
    mixDigest(final, be32(db.id));
    for (const seg of db.segments) {
      for (const [key, value] of seg) {
        const digest = Buffer.alloc(20);
        mixDigest(digest, bytes(key));
        objectDigest(digest, value, db.expires.has(key));
        xorDigest(final, digest);
      }
    }
  }
  return final.toString('hex');
}
