import type { Client } from '../server/client.js';
import type { Handler } from './spec.js';
import { ERR } from '../server/dispatch.js';
import { NOTIFY_GENERIC } from '../keyspace/notify.js';
import { parseInteger, INT64_MAX, INT64_MIN } from '../util/number.js';
import { lookupNoTouch } from './keys.js';
import { MAX_EXPIRE_MS } from '../keyspace/database.js';

/*
 * The expire commands of src/expire.c (Redis 7.0.15): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with
 * NX|XX|GT|LT, TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.
 *
 * Expire times are Unix milliseconds kept as JS numbers by the keyspace (Database.expires), so
 * times beyond 2^53 ms (year 287396) are rounded to the nearest double, and the largest stored
 * time is 9223372036854774784 (the last double below 2^63): PEXPIRETIME and PTTL of such far
 * times may differ from Redis's exact int64 in the low digits. Everything a client can see for
 * realistic times is exact.
 */

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Below this magnitude, seconds * 1000 + now is exact in doubles, so no BigInt is needed. */
const FAST_LIMIT = 9e12;

/** An integer reply of a time that may exceed 2^53 (printed exactly from its double value). */
function addTime(c: Client, n: number): void {
  c.addInt(Number.isSafeInteger(n) ? n : BigInt(n));
}

/**
 * parseExtendedExpireArgumentsOrReply: the NX/XX/GT/LT flags after argv[2], or null after
 * replying with 'Unsupported option' or an incompatibility error.
 */
function parseFlags(c: Client): number | null {
  const argv = c.argv;
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    switch (opt.toLowerCase()) {
      case 'nx': flags |= EXPIRE_NX; break;
      case 'xx': flags |= EXPIRE_XX; break;
      case 'gt': flags |= EXPIRE_GT; break;
      case 'lt': flags |= EXPIRE_LT; break;
      default:
        c.addError(`ERR Unsupported option ${opt}`);
        return null;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    c.addError('ERR NX and XX, GT or LT options at the same time are not compatible');
    return null;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    c.addError('ERR GT and LT options at the same time are not compatible');
    return null;
  }
  return flags;
}

/**
 * expireGenericCommand: `relative` adds the current time (EXPIRE, PEXPIRE), `seconds` scales the
 * argument by 1000 (EXPIRE, EXPIREAT). A time already past deletes the key (propagated as DEL, or
 * UNLINK under lazyfree-lazy-expire, notification `del`); otherwise the TTL is set, propagated as
 * `PEXPIREAT key <ms> [flags]` and notified as `expire`. Replies 1 when the TTL was set or the key
 * deleted, 0 when the key is missing or a flag's condition failed.
 */
function expireGeneric(c: Client, relative: boolean, seconds: boolean): void {
  const argv = c.argv;
  const key = argv[1]!;
  const flags = parseFlags(c);
  if (flags === null) return;
  const parsed = parseInteger(argv[2]!);
  if (parsed === null) {
    c.addError(ERR.notInteger);
    return;
  }
  const db = c.db;
  const ks = db.ks;
  const now = ks.now();
  const basetime = relative ? now : 0;
  let when: number;
  if (typeof parsed === 'number' && parsed > -FAST_LIMIT && parsed < FAST_LIMIT) {
    when = (seconds ? parsed * 1000 : parsed) + basetime;
  } else {
    // EXPIRE allows negative numbers, but overflows of the unit conversion or of the addition of
    // the base time are errors.
    let w = BigInt(parsed);
    if (seconds) {
      if (w > INT64_MAX / 1000n || w < INT64_MIN / 1000n) {
        expireTimeError(c);
        return;
      }
      w *= 1000n;
    }
    if (w > INT64_MAX - BigInt(basetime)) {
      expireTimeError(c);
      return;
    }
    w += BigInt(basetime);
    when = Number(w);
    if (when > MAX_EXPIRE_MS) when = MAX_EXPIRE_MS;
  }

  if (db.lookupWrite(key) === undefined) {
    c.addInt(0);
    return;
  }
  if (flags !== 0) {
    const current = db.getExpire(key);
    if (flags & EXPIRE_NX && current !== -1) {
      c.addInt(0);
      return;
    }
    if (flags & EXPIRE_XX && current === -1) {
      c.addInt(0);
      return;
    }
    // GT: no TTL counts as an infinite one, which nothing is greater than
    if (flags & EXPIRE_GT && (when <= current || current === -1)) {
      c.addInt(0);
      return;
    }
    if (flags & EXPIRE_LT && current !== -1 && when >= current) {
      c.addInt(0);
      return;
    }
  }

  const effects = c.server.effects;
  if (when <= now && !ks.loading) {
    // checkAlreadyExpired: delete now rather than store a TTL in the past
    const dirty = ks.dirty;
    if (db.getExpire(key) !== -1) db.removeExpire(key);
    db.deleteKey(key);
    ks.dirty = dirty + 1;
    const lazy = c.server.config.get<boolean>('lazyfree-lazy-expire');
    effects.rewrite([lazy ? 'UNLINK' : 'DEL', key]);
    ks.notify(NOTIFY_GENERIC, 'del', key, db.id);
    c.addInt(1);
    return;
  }
  db.setExpire(key, when);
  c.addInt(1);
  if ((relative || seconds) && effects.active) {
    const out = ['PEXPIREAT', key, Number.isSafeInteger(when) ? String(when) : BigInt(when).toString()];
    for (let j = 3; j < argv.length; j++) out.push(argv[j]!);
    effects.rewrite(out);
  }
  ks.notify(NOTIFY_GENERIC, 'expire', key, db.id);
}

/** addReplyErrorExpireTime: `ERR invalid expire time in '<command>' command`. */
function expireTimeError(c: Client): void {
  c.addError(`ERR invalid expire time in '${c.cmd?.fullName ?? c.argv[0]!.toLowerCase()}' command`);
}

/**
 * ttlGenericCommand: -2 for a missing key, -1 without TTL, else the remaining time (`abs` false)
 * or the expire time (`abs` true), in ms or in seconds rounded to the nearest.
 */
function ttlGeneric(c: Client, ms: boolean, abs: boolean): void {
  const key = c.argv[1]!;
  if (lookupNoTouch(c, key) === undefined) {
    c.addInt(-2);
    return;
  }
  const expire = c.db.getExpire(key);
  if (expire === -1) {
    c.addInt(-1);
    return;
  }
  let ttl = abs ? expire : expire - c.db.ks.now();
  if (ttl < 0) ttl = 0;
  addTime(c, ms ? ttl : Math.floor((ttl + 500) / 1000));
}

/** PERSIST key: removes the TTL; 1 when there was one (notification `persist`), else 0. */
function persist(c: Client): void {
  const key = c.argv[1]!;
  const db = c.db;
  if (db.lookupWrite(key) !== undefined && db.removeExpire(key)) {
    db.ks.notify(NOTIFY_GENERIC, 'persist', key, db.id);
    c.addInt(1);
  } else {
    c.addInt(0);
  }
}

/** Handlers of the expire command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const expireCommands: Record<string, Handler> = {
  expire: (c) => expireGeneric(c, true, true),
  pexpire: (c) => expireGeneric(c, true, false),
  expireat: (c) => expireGeneric(c, false, true),
  pexpireat: (c) => expireGeneric(c, false, false),
  ttl: (c) => ttlGeneric(c, false, false),
  pttl: (c) => ttlGeneric(c, true, false),
  expiretime: (c) => ttlGeneric(c, false, true),
  pexpiretime: (c) => ttlGeneric(c, true, true),
  persist,
};
