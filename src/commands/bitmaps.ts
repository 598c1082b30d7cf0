/**
 * Bit commands on string values (src/bitops.c of Redis 7.0.15): SETBIT, GETBIT, BITCOUNT,
 * BITPOS, BITOP, BITFIELD, BITFIELD_RO.
 *
 * A value is a latin1 JS string, one char per byte; bit 0 is the most significant bit of the
 * first byte. Reads work on the string directly; writes build a Buffer and store
 * `buf.latin1Slice()` back through the keyspace gate.
 */
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { STR_RAW } from '../keyspace/database.js';
import { NOTIFY_GENERIC, NOTIFY_STRING } from '../keyspace/notify.js';
import { parseInteger, parseInt64 } from '../util/number.js';
import { cstrLower } from './strings.js';
import { constants as bufferConstants } from 'node:buffer';

const CZERO = ':0\r\n';
const CONE = ':1\r\n';
const BIT_OFFSET_ERR = 'ERR bit offset is not an integer or out of range';
/**
 * A value longer than V8's longest string (2^29-24 bytes on 64-bit) cannot be stored: a write
 * reaching the last 24 bytes of Redis's default 512 MB range gets this error instead.
 */
const MAX_JS_STRING = bufferConstants.MAX_STRING_LENGTH;
const TOO_LONG_ERR = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
const BITFIELD_TYPE_ERR = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

/** Set bits of every byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** redisPopcount: set bits of `count` bytes of `s` from `from`. */
function popcount(s: string, from: number, count: number): number {
  let bits = 0;
  const end = from + count;
  for (let i = from; i < end; i++) bits += POPCOUNT[s.charCodeAt(i)]!;
  return bits;
}

/**
 * redisBitpos: position of the first bit equal to `bit` in `count` bytes of `s` from `from`,
 * relative to `from`. Looking for 0 in all-ones bytes gives count*8 (the string is zero-padded
 * on the right); looking for 1 in all-zero bytes gives -1.
 */
function bitposBytes(s: string, from: number, count: number, bit: number): number {
  const skip = bit ? 0 : 0xff;
  const end = from + count;
  for (let i = from; i < end; i++) {
    const b = s.charCodeAt(i);
    if (b !== skip) return (i - from) * 8 + firstBit(b, bit);
  }
  return bit ? -1 : count * 8;
}

/** redisBitpos over one byte value. */
function bitposByte(b: number, bit: number): number {
  if (bit ? b === 0 : b === 0xff) return bit ? -1 : 8;
  return firstBit(b, bit);
}

function firstBit(b: number, bit: number): number {
  for (let k = 0; k < 8; k++) if (((b >> (7 - k)) & 1) === bit) return k;
  return 8;
}

/**
 * getBitOffsetFromArgument of bitops.c: a bit offset >= 0 whose byte is below
 * proto-max-bulk-len (2^32-1 at the default 512 MB). With `bits` > 0 (BITFIELD), "#n" means
 * n*bits (the product wraps at 64 bits as in C). Null after replying the error.
 */
function bitOffsetArg(c: Client, s: string, bits: number): number | null {
  const useHash = bits > 0 && s.charCodeAt(0) === 35; // '#'
  let v = parseInt64(useHash ? s.slice(1) : s);
  if (v === null) {
    c.addError(BIT_OFFSET_ERR);
    return null;
  }
  if (useHash) v = BigInt.asIntN(64, v * BigInt(bits));
  if (v < 0n || v >> 3n >= BigInt(c.server.config.get<number>('proto-max-bulk-len'))) {
    c.addError(BIT_OFFSET_ERR);
    return null;
  }
  return Number(v);
}

/**
 * lookupStringForBitCommand: the string value of argv[1] grown with zero bytes so that bit
 * `maxbit` exists, as a Buffer, or null after WRONGTYPE. `grown` tells whether the key is new or
 * longer (Redis's `dirty`).
 */
let grown = false;
function stringForBitWrite(c: Client, maxbit: number): Buffer | null {
  const o = c.db.lookupWrite(c.argv[1]!);
  if (o !== undefined && typeof o !== 'string') {
    c.addError(ERR.wrongType);
    return null;
  }
  const need = Math.floor(maxbit / 8) + 1;
  if (need > MAX_JS_STRING) {
    c.addError(TOO_LONG_ERR);
    return null;
  }
  if (o === undefined) {
    grown = true;
    return Buffer.alloc(need);
  }
  grown = need > o.length;
  const buf = Buffer.alloc(grown ? need : o.length);
  buf.latin1Write(o, 0);
  return buf;
}

/** SETBIT key offset 0|1: replies with the previous bit; nothing is written when nothing changes. */
function setbitCommand(c: Client): void {
  const argv = c.argv;
  const offset = bitOffsetArg(c, argv[2]!, 0);
  if (offset === null) return;
  const on = parseInteger(argv[3]!);
  if (on === null || (on !== 0 && on !== 1)) {
    c.addError('ERR bit is not an integer or out of range');
    return;
  }
  const key = argv[1]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  if (o !== undefined && typeof o !== 'string') {
    c.addError(ERR.wrongType);
    return;
  }
  const byte = Math.floor(offset / 8);
  if (byte >= MAX_JS_STRING) {
    c.addError(TOO_LONG_ERR);
    return;
  }
  const shift = 7 - (offset & 7);
  const cur = o === undefined ? '' : o;
  const byteval = byte < cur.length ? cur.charCodeAt(byte) : 0;
  const bitval = (byteval >> shift) & 1;
  const dirty = byte >= cur.length;
  if (dirty || bitval !== on) {
    const nb = (byteval & ~(1 << shift)) | (on << shift);
    const ch = String.fromCharCode(nb);
    const nv = byte < cur.length
      ? cur.slice(0, byte) + ch + cur.slice(byte + 1)
      : cur + '\0'.repeat(byte - cur.length) + ch;
    db.setKey(key, nv, 'keep');
    c.server.keyspace.notify(NOTIFY_STRING, 'setbit', key, db.id);
  }
  // lookupStringForBitCommand: created raw, or unshared (raw) even when the bit was already set
  db.markStringEncoding(key, STR_RAW);
  c.out += bitval ? CONE : CZERO;
}

/** GETBIT key offset */
function getbitCommand(c: Client): void {
  const argv = c.argv;
  const offset = bitOffsetArg(c, argv[2]!, 0);
  if (offset === null) return;
  const o = c.db.lookupRead(argv[1]!);
  if (o === undefined) {
    c.out += CZERO;
    return;
  }
  if (typeof o !== 'string') {
    c.addError(ERR.wrongType);
    return;
  }
  const byte = Math.floor(offset / 8);
  const bit = byte < o.length ? (o.charCodeAt(byte) >> (7 - (offset & 7))) & 1 : 0;
  c.out += bit ? CONE : CZERO;
}

/** BITCOUNT key [start end [BYTE|BIT]] */
function bitcountCommand(c: Client): void {
  const argv = c.argv;
  const o = c.db.lookupRead(argv[1]!);
  if (o === undefined) {
    c.out += CZERO;
    return;
  }
  if (typeof o !== 'string') {
    c.addError(ERR.wrongType);
    return;
  }
  const strlen = o.length;
  let start: number;
  let end: number;
  let firstMask = 0;
  let lastMask = 0;
  if (argv.length === 4 || argv.length === 5) {
    const s0 = parseInteger(argv[2]!);
    if (s0 === null) return c.addError(ERR.notInteger);
    const e0 = parseInteger(argv[3]!);
    if (e0 === null) return c.addError(ERR.notInteger);
    if (s0 < 0 && e0 < 0 && s0 > e0) {
      c.out += CZERO;
      return;
    }
    let isbit = false;
    if (argv.length === 5) {
      const u = cstrLower(argv[4]!);
      if (u === 'bit') isbit = true;
      else if (u !== 'byte') return c.addError(ERR.syntax);
    }
    const totlen = isbit ? strlen * 8 : strlen;
    start = Number(s0);
    end = Number(e0);
    if (start < 0) start = totlen + start;
    if (end < 0) end = totlen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= totlen) end = totlen - 1;
    if (isbit && start <= end) {
      firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
      lastMask = (1 << (7 - (end & 7))) - 1;
      start = Math.floor(start / 8);
      end = Math.floor(end / 8);
    }
  } else if (argv.length === 2) {
    start = 0;
    end = strlen - 1;
  } else {
    c.addError(ERR.syntax);
    return;
  }
  if (start > end) {
    c.out += CZERO;
    return;
  }
  let count = popcount(o, start, end - start + 1);
  if (firstMask !== 0) count -= POPCOUNT[o.charCodeAt(start) & firstMask]!;
  if (lastMask !== 0) count -= POPCOUNT[o.charCodeAt(end) & lastMask]!;
  c.out += ':' + count + '\r\n';
}

/**
 * BITPOS key bit [start [end [BYTE|BIT]]]: with no explicit end, a search for 0 past the last
 * byte finds the first bit after the string; with an end it gives -1 (bitposCommand).
 */
function bitposCommand(c: Client): void {
  const argv = c.argv;
  const bit = parseInteger(argv[2]!);
  if (bit === null) return c.addError(ERR.notInteger);
  if (bit !== 0 && bit !== 1) return c.addError('ERR The bit argument must be 1 or 0.');
  const o = c.db.lookupRead(argv[1]!);
  if (o === undefined) {
    c.out += bit ? ':-1\r\n' : CZERO;
    return;
  }
  if (typeof o !== 'string') return c.addError(ERR.wrongType);
  const strlen = o.length;
  let start: number;
  let end: number;
  let endGiven = false;
  let firstMask = 0;
  let lastMask = 0;
  const argc = argv.length;
  if (argc === 4 || argc === 5 || argc === 6) {
    const s0 = parseInteger(argv[3]!);
    if (s0 === null) return c.addError(ERR.notInteger);
    let isbit = false;
    if (argc === 6) {
      const u = cstrLower(argv[5]!);
      if (u === 'bit') isbit = true;
      else if (u !== 'byte') return c.addError(ERR.syntax);
    }
    let totlen = strlen;
    if (argc >= 5) {
      const e0 = parseInteger(argv[4]!);
      if (e0 === null) return c.addError(ERR.notInteger);
      end = Number(e0);
      endGiven = true;
    } else {
      end = isbit ? totlen * 8 + 7 : totlen - 1;
    }
    if (isbit) totlen *= 8;
    start = Number(s0);
    if (start < 0) start = totlen + start;
    if (end < 0) end = totlen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= totlen) end = totlen - 1;
    if (isbit && start <= end) {
      firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
      lastMask = (1 << (7 - (end & 7))) - 1;
      start = Math.floor(start / 8);
      end = Math.floor(end / 8);
    }
  } else if (argc === 3) {
    start = 0;
    end = strlen - 1;
  } else {
    return c.addError(ERR.syntax);
  }
  if (start > end) {
    c.out += ':-1\r\n';
    return;
  }
  let bytes = end - start + 1;
  let pos: number;
  found: {
    if (firstMask) {
      let tmp = bit ? o.charCodeAt(start) & ~firstMask & 0xff : o.charCodeAt(start) | firstMask;
      if (lastMask && bytes === 1) tmp = bit ? tmp & ~lastMask & 0xff : tmp | lastMask;
      pos = bitposByte(tmp, bit);
      if (bytes === 1 || (pos !== -1 && pos !== 8)) break found;
      start++;
      bytes--;
    }
    const cur = bytes - (lastMask ? 1 : 0);
    if (cur > 0) {
      pos = bitposBytes(o, start, cur, bit);
      if (bytes === cur || (pos !== -1 && pos !== cur * 8)) break found;
      start += cur;
      bytes -= cur;
    }
    const tmp = bit ? o.charCodeAt(end) & ~lastMask & 0xff : o.charCodeAt(end) | lastMask;
    pos = bitposByte(tmp, bit);
  }
  if (endGiven && bit === 0 && pos === bytes * 8) {
    c.out += ':-1\r\n';
    return;
  }
  if (pos !== -1) pos += start * 8;
  c.out += ':' + pos + '\r\n';
}

/** BITOP AND|OR|XOR|NOT destkey key [key ...]: the result is as long as the longest source. */
function bitopCommand(c: Client): void {
  const argv = c.argv;
  const op = cstrLower(argv[1]!);
  if (op !== 'and' && op !== 'or' && op !== 'xor' && op !== 'not') return c.addError(ERR.syntax);
  if (op === 'not' && argv.length !== 4) return c.addError('ERR BITOP NOT must be called with a single source key.');
  const db = c.db;
  const n = argv.length - 3;
  const srcs: string[] = new Array<string>(n);
  let maxlen = 0;
  for (let j = 0; j < n; j++) {
    const o = db.lookupRead(argv[j + 3]!);
    if (o === undefined) {
      srcs[j] = '';
      continue;
    }
    if (typeof o !== 'string') return c.addError(ERR.wrongType);
    srcs[j] = o;
    if (o.length > maxlen) maxlen = o.length;
  }
  const target = argv[2]!;
  if (maxlen > 0) {
    const res = Buffer.alloc(maxlen);
    res.latin1Write(srcs[0]!, 0);
    if (op === 'not') {
      for (let i = 0; i < maxlen; i++) res[i] = ~res[i]! & 0xff;
    } else {
      for (let j = 1; j < n; j++) {
        const s = srcs[j]!;
        const l = s.length;
        if (op === 'and') {
          for (let i = 0; i < l; i++) res[i]! &= s.charCodeAt(i);
          res.fill(0, l);
        } else if (op === 'or') {
          for (let i = 0; i < l; i++) res[i]! |= s.charCodeAt(i);
        } else {
          for (let i = 0; i < l; i++) res[i]! ^= s.charCodeAt(i);
        }
      }
    }
    db.setKey(target, res.latin1Slice(0, maxlen));
    db.markStringEncoding(target, STR_RAW);
    c.server.keyspace.notify(NOTIFY_STRING, 'set', target, db.id);
  } else if (db.deleteKey(target)) {
    c.server.keyspace.notify(NOTIFY_GENERIC, 'del', target, db.id);
  }
  c.out += ':' + maxlen + '\r\n';
}

// ---- BITFIELD --------------------------------------------------------------------------------

const OW_WRAP = 0;
const OW_SAT = 1;
const OW_FAIL = 2;
const OP_GET = 0;
const OP_SET = 1;
const OP_INCRBY = 2;

interface BitfieldOp {
  offset: number;
  value: bigint;
  opcode: number;
  owtype: number;
  bits: number;
  signed: boolean;
}

/** Unsigned field of `bits` bits at bit `offset` of `buf` (bytes past the end read as 0). */
function getField(buf: Buffer | string, offset: number, bits: number): bigint {
  const byte = Math.floor(offset / 8);
  const len = buf.length;
  let win = 0n; // 9 bytes, big-endian: a 64-bit field at any bit alignment fits
  for (let i = 0; i < 9; i++) {
    const p = byte + i;
    const b = p < len ? (typeof buf === 'string' ? buf.charCodeAt(p) : buf[p]!) : 0;
    win = (win << 8n) | BigInt(b);
  }
  const shift = BigInt(72 - (offset & 7) - bits);
  return (win >> shift) & ((1n << BigInt(bits)) - 1n);
}

/** Stores the low `bits` bits of `value` at bit `offset` of `buf` (which holds them). */
function setField(buf: Buffer, offset: number, bits: number, value: bigint): void {
  const byte = Math.floor(offset / 8);
  const len = buf.length;
  let win = 0n;
  for (let i = 0; i < 9; i++) {
    const p = byte + i;
    win = (win << 8n) | BigInt(p < len ? buf[p]! : 0);
  }
  const shift = BigInt(72 - (offset & 7) - bits);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  win = (win & ~mask) | ((BigInt.asUintN(bits, value) << shift) & mask);
  for (let i = 8; i >= 0; i--) {
    const p = byte + i;
    if (p < len) buf[p] = Number(win & 0xffn);
    win >>= 8n;
  }
}

/**
 * checkUnsignedBitfieldOverflow / checkSignedBitfieldOverflow with exact integers: the result
 * of `value + incr` for a field, or null when OVERFLOW FAIL refuses it. SET passes its value as
 * `value` with incr 0; an unsigned SET of a negative value takes it as its uint64 cast, as C does.
 */
function applyOverflow(value: bigint, incr: bigint, bits: number, signed: boolean, owtype: number): { v: bigint; overflow: boolean } | null {
  const sum = value + incr;
  let max: bigint;
  let min: bigint;
  if (signed) {
    max = (1n << BigInt(bits - 1)) - 1n;
    min = -max - 1n;
  } else {
    max = (1n << BigInt(bits)) - 1n;
    min = 0n;
  }
  if (sum >= min && sum <= max) return { v: sum, overflow: false };
  if (owtype === OW_FAIL) return null;
  if (owtype === OW_SAT) return { v: sum > max ? max : min, overflow: true };
  return { v: signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum), overflow: true };
}

/**
 * bitfieldGeneric of bitops.c: parses every subcommand first (errors leave the key untouched),
 * then runs them in order on the value, grown once to the farthest written bit. `readonly`:
 * BITFIELD_RO, which accepts GET only.
 */
function bitfieldGeneric(c: Client, readonlyCmd: boolean): void {
  const argv = c.argv;
  const argc = argv.length;
  const ops: BitfieldOp[] = [];
  let owtype = OW_WRAP;
  let readonly = true;
  let highest = 0;
  for (let j = 2; j < argc; j++) {
    const remargs = argc - j - 1;
    const sub = cstrLower(argv[j]!);
    let opcode: number;
    if (sub === 'get' && remargs >= 2) opcode = OP_GET;
    else if (sub === 'set' && remargs >= 3) opcode = OP_SET;
    else if (sub === 'incrby' && remargs >= 3) opcode = OP_INCRBY;
    else if (sub === 'overflow' && remargs >= 1) {
      const t = cstrLower(argv[++j]!);
      if (t === 'wrap') owtype = OW_WRAP;
      else if (t === 'sat') owtype = OW_SAT;
      else if (t === 'fail') owtype = OW_FAIL;
      else return c.addError('ERR Invalid OVERFLOW type specified');
      continue;
    } else {
      return c.addError(ERR.syntax);
    }
    // getBitfieldTypeFromArgument: 'i' or 'u' (case-sensitive), then 1..64 (i) or 1..63 (u)
    const t = argv[j + 1]!;
    const t0 = t.charCodeAt(0);
    const signed = t0 === 105;
    if (!signed && t0 !== 117) return c.addError(BITFIELD_TYPE_ERR);
    const z = t.indexOf('\0');
    const nb = parseInt64(t.slice(1, z < 0 ? t.length : z));
    if (nb === null || nb < 1n || (signed && nb > 64n) || (!signed && nb > 63n)) return c.addError(BITFIELD_TYPE_ERR);
    const bits = Number(nb);
    const offset = bitOffsetArg(c, argv[j + 2]!, bits);
    if (offset === null) return;
    let value = 0n;
    if (opcode !== OP_GET) {
      readonly = false;
      if (highest < offset + bits - 1) highest = offset + bits - 1;
      const v = parseInt64(argv[j + 3]!);
      if (v === null) return c.addError(ERR.notInteger);
      value = v;
    }
    ops.push({ offset, value, opcode, owtype, bits, signed });
    j += opcode === OP_GET ? 2 : 3;
  }
  let src: string | Buffer | undefined;
  let buf: Buffer | null = null;
  if (readonly) {
    const o = c.db.lookupRead(argv[1]!);
    if (o !== undefined && typeof o !== 'string') return c.addError(ERR.wrongType);
    src = o;
  } else {
    if (readonlyCmd) return c.addError('ERR BITFIELD_RO only supports the GET subcommand');
    buf = stringForBitWrite(c, highest);
    if (buf === null) return;
    src = buf;
  }
  const dirty = grown && !readonly;
  let changes = 0;
  let out = '*' + ops.length + '\r\n';
  for (const op of ops) {
    if (op.opcode === OP_GET) {
      const raw = src === undefined ? 0n : getField(src, op.offset, op.bits);
      out += ':' + (op.signed ? BigInt.asIntN(op.bits, raw) : raw) + '\r\n';
      continue;
    }
    const rawOld = getField(buf!, op.offset, op.bits);
    const oldval = op.signed ? BigInt.asIntN(op.bits, rawOld) : rawOld;
    let r: { v: bigint; overflow: boolean } | null;
    let retNew: boolean;
    if (op.opcode === OP_INCRBY) {
      r = applyOverflow(oldval, op.value, op.bits, op.signed, op.owtype);
      retNew = true;
    } else {
      // checkUnsignedBitfieldOverflow sees the SET value cast to uint64
      const v = op.signed ? op.value : BigInt.asUintN(64, op.value);
      r = applyOverflow(v, 0n, op.bits, op.signed, op.owtype);
      retNew = false;
    }
    if (r === null) {
      out += c.resp === 2 ? '$-1\r\n' : '_\r\n';
      continue;
    }
    out += ':' + (retNew ? r.v : oldval) + '\r\n';
    setField(buf!, op.offset, op.bits, r.v);
    if (dirty || oldval !== r.v) changes++;
  }
  c.out += out;
  if (buf !== null && (changes > 0 || dirty)) {
    const key = argv[1]!;
    const db = c.db;
    const ks = c.server.keyspace;
    db.setKey(key, buf.latin1Slice(0, buf.length), 'keep');
    // One change per written field, as Redis counts. A key only created or padded (every write
    // failed under OVERFLOW FAIL) counts as one change: Redis 7.0 counts none there, so it neither
    // logs the command to the AOF nor notifies, and a restart from the AOF loses a key that
    // memory had (redis/redis#15599, fixed upstream by #15699 in the same way).
    ks.dirty += Math.max(changes, 1) - 1;
    ks.notify(NOTIFY_STRING, 'setbit', key, db.id);
  }
  // a write subcommand went through lookupStringForBitCommand: raw, even when nothing changed
  if (buf !== null) c.db.markStringEncoding(argv[1]!, STR_RAW);
}

/** Handlers of the bitmaps command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const bitmapsCommands: Record<string, Handler> = {
  setbit: setbitCommand,
  getbit: getbitCommand,
  bitcount: bitcountCommand,
  bitpos: bitposCommand,
  bitop: bitopCommand,
  bitfield: (c) => bitfieldGeneric(c, false),
  bitfield_ro: (c) => bitfieldGeneric(c, true),
};
