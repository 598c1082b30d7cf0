import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { parseInteger } from '../util/number.js';
import { NOTIFY_GENERIC } from '../keyspace/notify.js';
import { newLru } from '../keyspace/lru.js';
import { rdbSave, rdbState, saveOptions, accessClock } from '../persistence/rdb/load.js';
import { dumpPayload } from '../persistence/rdb/encoder.js';
import { RdbReader, RdbError } from '../persistence/rdb/reader.js';
import { loadObject } from '../persistence/rdb/decoder.js';
import { limitsFromConfig } from '../persistence/rdb/values.js';
import { Crc64 } from '../persistence/rdb/crc64.js';
import { RDB_VERSION, rdbIsObjectType } from '../persistence/rdb/constants.js';

/**
 * SAVE, LASTSAVE, DUMP and RESTORE (saveCommand in src/rdb.c, lastsaveCommand in src/server.c,
 * dumpCommand/restoreCommand in src/cluster.c of Redis 7.0). BGSAVE belongs to the snapshot layer.
 */

/** SAVE: a synchronous save to dir/dbfilename. */
const save: Handler = (c) => {
  const server = c.server;
  if (rdbState(server).bgsaveInProgress) {
    c.addError('ERR Background save already in progress');
    return;
  }
  if (rdbSave(server)) {
    rdbState(server).saves++;
    c.addOk();
  } else {
    c.addError('ERR');
  }
};

/** LASTSAVE: Unix time of the last successful save. */
const lastsave: Handler = (c) => {
  c.addInt(rdbState(c.server).lastSave);
};

/** DUMP key: the value serialized in RDB format + RDB version + CRC-64, or nil. */
const dump: Handler = (c) => {
  const v = c.db.lookupRead(c.argv[1]!);
  if (v === undefined) {
    c.addNull();
    return;
  }
  c.addBulk(dumpPayload(v, saveOptions(c.server)).latin1Slice());
};

/**
 * verifyDumpPayload: at least 10 bytes, an RDB version not newer than ours in the footer, and
 * the CRC-64 of everything before the CRC (not checked with `skipChecksum`: DEBUG
 * SET-SKIP-CHECKSUM-VALIDATION 1).
 */
export function verifyDumpPayload(p: Buffer, skipChecksum = false): boolean {
  if (p.length < 10) return false;
  const footer = p.length - 10;
  const ver = p[footer]! | (p[footer + 1]! << 8);
  if (ver > RDB_VERSION) return false;
  if (skipChecksum) return true;
  return new Crc64().update(p, 0, p.length - 8).equalsLE(p, p.length - 8);
}

function integerArg(c: Client, s: string): number | null {
  const v = parseInteger(s);
  if (v === null) {
    c.addError(ERR.notInteger);
    return null;
  }
  return Number(v);
}

/** RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]. */
const restore: Handler = (c) => {
  const argv = c.argv;
  let replace = false;
  let absttl = false;
  let lruIdle = -1;
  let lfuFreq = -1;
  for (let j = 4; j < argv.length; j++) {
    const additional = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'replace') {
      replace = true;
    } else if (opt === 'absttl') {
      absttl = true;
    } else if (opt === 'idletime' && additional >= 1 && lfuFreq === -1) {
      const v = integerArg(c, argv[j + 1]!);
      if (v === null) return;
      if (v < 0) {
        c.addError('ERR Invalid IDLETIME value, must be >= 0');
        return;
      }
      lruIdle = v;
      j++;
    } else if (opt === 'freq' && additional >= 1 && lruIdle === -1) {
      const v = integerArg(c, argv[j + 1]!);
      if (v === null) return;
      if (v < 0 || v > 255) {
        c.addError('ERR Invalid FREQ value, must be >= 0 and <= 255');
        return;
      }
      lfuFreq = v;
      j++;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const key = argv[1]!;
  if (!replace && c.db.lookupWrite(key) !== undefined) {
    c.addError('BUSYKEY Target key name already exists.');
    return;
  }
  const ttlArg = parseInteger(argv[2]!);
  if (ttlArg === null) {
    c.addError(ERR.notInteger);
    return;
  }
  if (ttlArg < 0) {
    c.addError('ERR Invalid TTL value, must be >= 0');
    return;
  }
  let ttl = Number(ttlArg);
  const payload = Buffer.from(argv[3]!, 'latin1');
  if (!verifyDumpPayload(payload, rdbState(c.server).skipChecksumValidation)) {
    c.addError('ERR DUMP payload version or checksum are wrong');
    return;
  }
  let obj;
  try {
    const r = new RdbReader(payload.subarray(0, payload.length - 10));
    const type = r.u8();
    obj = rdbIsObjectType(type) ? loadObject(r, type, limitsFromConfig(c.server.config), key) : null;
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    c.server.log.verbose(`RESTORE of '${key}' refused: ${e.message}`);
    obj = null;
  }
  if (obj === null || obj === undefined) {
    c.addError('ERR Bad data format');
    return;
  }
  const db = c.db;
  const ks = db.ks;
  let deleted = false;
  if (replace) deleted = db.lookupWrite(key) !== undefined;
  if (ttl && !absttl) ttl += Date.now();
  if (ttl && ttl <= Date.now() && !ks.loading) {
    // already expired: the key is not created (and an old one is gone, as a DEL)
    if (deleted) {
      db.deleteKey(key);
      c.server.effects.rewrite(['DEL', key]);
      ks.notify(NOTIFY_GENERIC, 'del', key, db.id);
    }
    c.addOk();
    return;
  }
  db.setKey(key, obj, ttl ? ttl : undefined);
  if (ttl && !absttl) {
    // propagate the TTL as an absolute time
    const rewritten = argv.slice();
    rewritten[2] = String(ttl);
    rewritten.push('ABSTTL');
    c.server.effects.rewrite(rewritten);
  }
  const lru = accessClock(ks, lfuFreq, lruIdle);
  if (lru >= 0) db.setLru(key, obj, lru);
  else if (deleted) db.setLru(key, obj, newLru(ks)); // dbDelete + dbAdd: a fresh clock, not the old one
  ks.notify(NOTIFY_GENERIC, 'restore', key, db.id);
  c.addOk();
};

/** Handlers of the persistence command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const persistenceCommands: Record<string, Handler> = {
  save,
  lastsave,
  dump,
  restore,
};
