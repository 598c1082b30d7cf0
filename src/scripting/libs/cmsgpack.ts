/**
 * lua-cmsgpack 0.4.0, the `cmsgpack` library Redis builds into its Lua
 * (deps/lua/src/lua_cmsgpack.c): cmsgpack.pack, unpack, unpack_one and unpack_limit.
 *
 * Type choices are the C's on Redis's 64-bit build: a number equal to its int64 conversion is
 * packed as the smallest integer form, any other as a float when the float holds it exactly and
 * as a double otherwise; a table whose keys are exactly 1..n is an array, any other a map; tables
 * nested 16 deep, functions and userdata are packed as nil. Unsigned 64-bit values unpack through
 * lua_pushinteger (so 2^63 and up come back negative). Decoding walks nested arrays and maps with
 * an explicit stack; the Lua stack operations (and their "stack overflow" errors) are the C's.
 */
import { ByteBuffer } from './bytes.js';
import { LuaVM, LUA_GLOBALSINDEX, LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, type LuaState } from '../lua.js';

/** lua_cmsgpack.c LUACMSGPACK_MAX_NESTING: tables this deep are packed as nil */
const MAX_NESTING = 16;
const INT_MAX = 2147483647;
const TOO_MANY_RESULTS = 'too many return values at once; use unpack_one or unpack_limit instead.';


/** mp_encode_bytes: a raw (string) header and the `len` bytes at `ptr` of `heap`. */
function encodeBytes(out: ByteBuffer, heap: Uint8Array, ptr: number, len: number): void {
  out.reserve(len + 5);
  const b = out.buf;
  let o = out.len;
  if (len < 32) b[o++] = 0xa0 | len;
  else if (len <= 0xff) {
    b[o++] = 0xd9;
    b[o++] = len;
  } else if (len <= 0xffff) {
    b[o++] = 0xda;
    b[o++] = len >>> 8;
    b[o++] = len & 0xff;
  } else {
    b[o++] = 0xdb;
    b.writeUInt32BE(len, o);
    o += 4;
  }
  b.set(heap.subarray(ptr, ptr + len), o);
  out.len = o + len;
}

/** mp_encode_int for an integer-valued double in [-2^63, 2^63). */
function encodeInt(out: ByteBuffer, n: number): void {
  out.reserve(9);
  const b = out.buf;
  let o = out.len;
  if (n >= 0) {
    if (n <= 127) b[o++] = n;
    else if (n <= 0xff) {
      b[o++] = 0xcc;
      b[o++] = n;
    } else if (n <= 0xffff) {
      b[o++] = 0xcd;
      b.writeUInt16BE(n, o);
      o += 2;
    } else if (n <= 0xffffffff) {
      b[o++] = 0xce;
      b.writeUInt32BE(n, o);
      o += 4;
    } else {
      b[o++] = 0xcf;
      b.writeBigUInt64BE(BigInt(n), o);
      o += 8;
    }
  } else if (n >= -32) b[o++] = n & 0xff;
  else if (n >= -128) {
    b[o++] = 0xd0;
    b[o++] = n & 0xff;
  } else if (n >= -32768) {
    b[o++] = 0xd1;
    b.writeInt16BE(n, o);
    o += 2;
  } else if (n >= -2147483648) {
    b[o++] = 0xd2;
    b.writeInt32BE(n, o);
    o += 4;
  } else {
    b[o++] = 0xd3;
    b.writeBigInt64BE(BigInt(n), o);
    o += 8;
  }
  out.len = o;
}

/** mp_encode_lua_number: the int64-equivalent numbers as integers, the others as float or double. */
function encodeNumber(out: ByteBuffer, n: number): void {
  // IS_INT64_EQUIVALENT: (int64_t)n == n, where x86-64 turns NaN and out-of-range values into
  // INT64_MIN (never equal to them)
  if (Number.isInteger(n) && n >= -9223372036854775808 && n < 9223372036854775808) {
    encodeInt(out, n);
    return;
  }
  out.reserve(9);
  const b = out.buf;
  // NaN never equals its float: it goes out as a double with its bits (x86's 0/0 is negative)
  if (n === Math.fround(n)) {
    b[out.len] = 0xca;
    b.writeFloatBE(n, out.len + 1);
    out.len += 5;
  } else {
    b[out.len] = 0xcb;
    b.writeDoubleBE(n, out.len + 1);
    out.len += 9;
  }
}

/** mp_encode_array / mp_encode_map: the header of `n` elements (`fix` is 0x90 or 0x80). */
function encodeHeader(out: ByteBuffer, n: number, fix: number, h16: number, h32: number): void {
  out.reserve(5);
  const b = out.buf;
  if (n <= 15) b[out.len++] = fix | n;
  else if (n <= 65535) {
    b[out.len] = h16;
    b.writeUInt16BE(n, out.len + 1);
    out.len += 3;
  } else {
    b[out.len] = h32;
    b.writeUInt32BE(n >>> 0, out.len + 1);
    out.len += 5;
  }
}

/**
 * lua_cmsgpack.c table_is_an_array: every key a positive integer below 2^31 (IS_INT_EQUIVALENT
 * with a 32-bit int) and the largest equal to their count.
 */
function tableIsAnArray(vm: LuaVM, L: LuaState): boolean {
  let count = 0;
  let max = 0;
  const stacktop = vm.top(L);
  vm.growStack(L, 2, 'in function table_is_an_array');
  vm.pushNil(L);
  // one turn per key of the table
  while (vm.next(L, -2)) {
    vm.pop(L, 1);
    let n = 0;
    if (vm.type(L, -1) !== LUA_TNUMBER || (n = vm.toNumber(L, -1)) <= 0 || !(Number.isInteger(n) && n < 2147483648)) {
      vm.setTop(L, stacktop);
      return false;
    }
    if (n > max) max = n;
    count++;
  }
  vm.setTop(L, stacktop);
  return max === count;
}

/**
 * mp_encode_lua_type: the value on top of the stack, popped. Recursion is bounded by
 * MAX_NESTING (deeper tables are nil), as in the C.
 */
function encodeValue(vm: LuaVM, L: LuaState, out: ByteBuffer, level: number): void {
  let t = vm.type(L, -1);
  if (t === LUA_TTABLE && level === MAX_NESTING) t = LUA_TNIL;
  switch (t) {
    case LUA_TSTRING: {
      const p = vm.toStrPtr(L, -1);
      encodeBytes(out, vm.heapU8(), p, vm.lastLength);
      break;
    }
    case LUA_TBOOLEAN:
      out.byte(vm.toBoolean(L, -1) ? 0xc3 : 0xc2);
      break;
    case LUA_TNUMBER:
      encodeNumber(out, vm.toNumber(L, -1));
      break;
    case LUA_TTABLE:
      if (tableIsAnArray(vm, L)) {
        const len = vm.objLen(L, -1);
        encodeHeader(out, len, 0x90, 0xdc, 0xdd);
        vm.growStack(L, 1, 'in function mp_encode_lua_table_as_array');
        for (let j = 1; j <= len; j++) {
          // lua_gettable, as the C: an __index metamethod may run
          vm.pushNumber(L, j);
          vm.getTable(L, -2);
          encodeValue(vm, L, out, level + 1);
        }
      } else {
        vm.growStack(L, 3, 'in function mp_encode_lua_table_as_map');
        let len = 0;
        vm.pushNil(L);
        while (vm.next(L, -2)) {
          vm.pop(L, 1);
          len++;
        }
        encodeHeader(out, len, 0x80, 0xde, 0xdf);
        vm.pushNil(L);
        while (vm.next(L, -2)) {
          vm.pushValue(L, -2);
          encodeValue(vm, L, out, level + 1);
          encodeValue(vm, L, out, level + 1);
        }
      }
      break;
    default:
      out.byte(0xc0);
  }
  vm.pop(L, 1);
}

/** Output buffers not in use: a metamethod run by pack may call pack again. */
const idle: ByteBuffer[] = [];

function mpPack(vm: LuaVM, L: LuaState): number {
  const nargs = vm.top(L);
  if (nargs === 0) return vm.argError(L, 0, 'MessagePack pack needs input.');
  if (!vm.checkStack(L, nargs)) return vm.argError(L, 0, 'Too many arguments for MessagePack pack.');
  // an error thrown through here loses this buffer to the GC, nothing else
  const out = idle.pop() ?? new ByteBuffer(256);
  for (let i = 1; i <= nargs; i++) {
    vm.growStack(L, 1, 'in function mp_check');
    vm.pushValue(L, i);
    out.len = 0;
    encodeValue(vm, L, out, 0);
    vm.pushBytes(L, out.buf.subarray(0, out.len));
  }
  if (out.buf.length <= 1 << 20) idle.push(out);
  vm.concat(L, nargs);
  return 1;
}

// ---- decoding ----
const ERR_NONE = 0;
const ERR_EOF = 1;
const ERR_BADFMT = 2;
const K_ARRAY = 1;
const K_MAP = 0;

/**
 * The cursor over the input (mp_cur): the string's bytes in WebAssembly memory from `base`, read
 * through `h` (fetched again after every call into the VM, which may grow the memory), and the
 * open arrays and maps of the value being decoded.
 */
interface Cursor {
  h: Uint8Array;
  base: number;
  p: number;
  end: number;
  err: number;
  kinds: number[];
  left: number[];
  index: number[];
  /** for a map: 1 while its key is on top waiting for the value */
  haveKey: number[];
}

const scratch = new DataView(new ArrayBuffer(8));

function be16(h: Uint8Array, a: number): number {
  return (h[a + 1]! << 8) | h[a + 2]!;
}

function be32(h: Uint8Array, a: number): number {
  return ((h[a + 1]! << 24) | (h[a + 2]! << 16) | (h[a + 3]! << 8) | h[a + 4]!) >>> 0;
}

/**
 * The 64-bit integer after the type byte at `a`, signed, as a double: hi * 2^32 is exact and the
 * one addition rounds the sum correctly, as lua_pushnumber((lua_Number)int64) does.
 */
function be64signed(h: Uint8Array, a: number): number {
  return (be32(h, a) | 0) * 4294967296 + be32(h, a + 4);
}

/** The `n` bytes after the type byte at `a` into the scratch DataView. */
function toScratch(h: Uint8Array, a: number, n: number): void {
  for (let i = 0; i < n; i++) scratch.setUint8(i, h[a + 1 + i]!);
}

/**
 * mp_decode_to_lua_type: one value pushed (nested arrays and maps included), or c.err set.
 * Each turn reads one item's header (at least a byte), so the input's length bounds the turns.
 */
function decodeValue(vm: LuaVM, L: LuaState, c: Cursor): void {
  const { kinds, left, index, haveKey } = c;
  let sp = 0;
  for (let turns = c.end - c.p + 1; turns > 0; turns--) {
    if (c.end - c.p < 1) {
      c.err = ERR_EOF;
      return;
    }
    // one more slot per item: a stream of many top-level values grows the stack as it goes
    vm.growStack(L, 1, TOO_MANY_RESULTS);
    const h = (c.h = vm.heapU8());
    const avail = c.end - c.p;
    const a = c.base + c.p;
    const b = h[a]!;
    let container = -1;
    let n = 0;
    switch (b) {
      case 0xcc:
        if (avail < 2) return void (c.err = ERR_EOF);
        vm.pushNumber(L, h[a + 1]!);
        c.p += 2;
        break;
      case 0xd0:
        if (avail < 2) return void (c.err = ERR_EOF);
        vm.pushNumber(L, (h[a + 1]! << 24) >> 24);
        c.p += 2;
        break;
      case 0xcd:
        if (avail < 3) return void (c.err = ERR_EOF);
        vm.pushNumber(L, be16(h, a));
        c.p += 3;
        break;
      case 0xd1:
        if (avail < 3) return void (c.err = ERR_EOF);
        vm.pushNumber(L, (be16(h, a) << 16) >> 16);
        c.p += 3;
        break;
      case 0xce:
        if (avail < 5) return void (c.err = ERR_EOF);
        vm.pushNumber(L, be32(h, a));
        c.p += 5;
        break;
      case 0xd2:
        if (avail < 5) return void (c.err = ERR_EOF);
        vm.pushNumber(L, be32(h, a) | 0);
        c.p += 5;
        break;
      case 0xcf:
      case 0xd3:
        // uint 64 goes through lua_pushinteger (an int64) too: from 2^63 up it comes back negative
        if (avail < 9) return void (c.err = ERR_EOF);
        vm.pushNumber(L, be64signed(h, a));
        c.p += 9;
        break;
      case 0xc0:
        vm.pushNil(L);
        c.p += 1;
        break;
      case 0xc3:
        vm.pushBoolean(L, true);
        c.p += 1;
        break;
      case 0xc2:
        vm.pushBoolean(L, false);
        c.p += 1;
        break;
      case 0xca:
        if (avail < 5) return void (c.err = ERR_EOF);
        toScratch(h, a, 4);
        vm.pushNumber(L, scratch.getFloat32(0));
        c.p += 5;
        break;
      case 0xcb:
        if (avail < 9) return void (c.err = ERR_EOF);
        toScratch(h, a, 8);
        vm.pushNumber(L, scratch.getFloat64(0));
        c.p += 9;
        break;
      case 0xd9:
        if (avail < 2) return void (c.err = ERR_EOF);
        n = h[a + 1]!;
        if (avail < 2 + n) return void (c.err = ERR_EOF);
        vm.pushFromHeap(L, a + 2, n);
        c.p += 2 + n;
        break;
      case 0xda:
        if (avail < 3) return void (c.err = ERR_EOF);
        n = be16(h, a);
        if (avail < 3 + n) return void (c.err = ERR_EOF);
        vm.pushFromHeap(L, a + 3, n);
        c.p += 3 + n;
        break;
      case 0xdb:
        if (avail < 5) return void (c.err = ERR_EOF);
        n = be32(h, a);
        c.p += 5;
        if (c.end - c.p < n) return void (c.err = ERR_EOF);
        vm.pushFromHeap(L, a + 5, n);
        c.p += n;
        break;
      case 0xdc:
      case 0xde:
        if (avail < 3) return void (c.err = ERR_EOF);
        n = be16(h, a);
        c.p += 3;
        container = b === 0xdc ? K_ARRAY : K_MAP;
        break;
      case 0xdd:
      case 0xdf:
        if (avail < 5) return void (c.err = ERR_EOF);
        n = be32(h, a);
        c.p += 5;
        container = b === 0xdd ? K_ARRAY : K_MAP;
        break;
      default:
        if ((b & 0x80) === 0) {
          vm.pushNumber(L, b);
          c.p += 1;
        } else if ((b & 0xe0) === 0xe0) {
          vm.pushNumber(L, (b << 24) >> 24);
          c.p += 1;
        } else if ((b & 0xe0) === 0xa0) {
          n = b & 0x1f;
          if (avail < 1 + n) return void (c.err = ERR_EOF);
          vm.pushFromHeap(L, a + 1, n);
          c.p += 1 + n;
        } else if ((b & 0xf0) === 0x90) {
          n = b & 0xf;
          c.p += 1;
          container = K_ARRAY;
        } else if ((b & 0xf0) === 0x80) {
          n = b & 0xf;
          c.p += 1;
          container = K_MAP;
        } else {
          c.err = ERR_BADFMT;
          return;
        }
    }
    if (container >= 0) {
      vm.newTable(L);
      if (container === K_ARRAY) vm.growStack(L, 1, 'in function mp_decode_to_lua_array');
      kinds[sp] = container;
      left[sp] = n;
      index[sp] = 1;
      haveKey[sp] = 0;
      sp++;
    }
    // complete what the item finished, then say what comes next (the next turn reads it);
    // each turn here closes a container, so sp bounds them
    let complete = container < 0;
    for (;;) {
      if (sp === 0) return;
      const f = sp - 1;
      if (kinds[f] === K_ARRAY) {
        if (complete) vm.setTable(L, -3);
        if (left[f]! > 0) {
          left[f]!--;
          vm.pushNumber(L, index[f]!++);
          break;
        }
      } else {
        if (complete) {
          if (haveKey[f] === 0) {
            haveKey[f] = 1;
            break;
          }
          vm.setTable(L, -3);
          haveKey[f] = 0;
        }
        if (left[f]! > 0) {
          left[f]!--;
          break;
        }
      }
      sp--;
      complete = true;
    }
  }
  // only a truncated input ends the turns early: its next item is missing
  c.err = ERR_EOF;
}

/** mp_unpack_full: up to `limit` values from byte `offset` (0 and 0: all, and no offset returned). */
function unpackFull(vm: LuaVM, L: LuaState, limit: number, offset: number): number {
  // luaL_checklstring: a number is converted in place, anything else refused
  if (vm.type(L, 1) !== LUA_TSTRING) vm.checkString(L, 1);
  const base = vm.toStrPtr(L, 1);
  const len = vm.lastLength;
  const decodeAll = limit === 0 && offset === 0;
  // the C prints the length where it means the limit
  if (offset < 0 || limit < 0) return vm.errorWhere(L, `Invalid request to unpack with offset of ${offset | 0} and limit of ${len | 0}.`);
  if (offset > len) return vm.errorWhere(L, `Start offset ${offset | 0} greater than input length ${len | 0}.`);
  if (decodeAll) limit = INT_MAX;
  // the string stays at index 1 (Lua does not move strings), so its address holds throughout
  const c: Cursor = { h: vm.heapU8(), base, p: offset, end: len, err: ERR_NONE, kinds: [], left: [], index: [], haveKey: [] };
  let cnt = 0;
  // each value read consumes at least one byte
  for (; c.p < c.end && cnt < limit; cnt++) {
    decodeValue(vm, L, c);
    if (c.err === ERR_EOF) return vm.errorWhere(L, 'Missing bytes in input.');
    if (c.err === ERR_BADFMT) return vm.errorWhere(L, 'Bad data format in input.');
  }
  if (!decodeAll) {
    vm.growStack(L, 1, 'in function mp_unpack_full');
    // the offset to resume from, -1 once the whole input is read
    vm.pushNumber(L, c.p === c.end ? -1 : c.p);
    vm.insert(L, 2);
    cnt += 1;
  }
  return cnt;
}

/** The JS functions of one VM, registered once (function-table slots are never freed). */
const registered = new WeakMap<LuaVM, Array<[string, number]>>();

function cmsgpackFunctions(vm: LuaVM): Array<[string, number]> {
  let fns = registered.get(vm);
  if (fns) return fns;
  fns = [
    ['pack', vm.fn((L) => mpPack(vm, L))],
    ['unpack', vm.fn((L) => unpackFull(vm, L, 0, 0))],
    ['unpack_one', vm.fn((L) => {
      const offset = vm.optInteger64(L, 2, 0);
      vm.pop(L, vm.top(L) - 1);
      return unpackFull(vm, L, 1, offset);
    })],
    ['unpack_limit', vm.fn((L) => {
      const limit = vm.checkInteger64(L, 2);
      const offset = vm.optInteger64(L, 3, 0);
      vm.pop(L, vm.top(L) - 1);
      return unpackFull(vm, L, limit, offset);
    })],
  ];
  registered.set(vm, fns);
  return fns;
}

/**
 * Opens the `cmsgpack` library as Redis does (lua_cmsgpack.c luaopen_cmsgpack): the global table
 * `cmsgpack` with pack, unpack, unpack_one, unpack_limit, _NAME, _VERSION, _COPYRIGHT and
 * _DESCRIPTION. The stack is left as found.
 */
export function openCmsgpack(vm: LuaVM, L: LuaState): void {
  const top = vm.top(L);
  vm.newTable(L);
  for (const [name, f] of cmsgpackFunctions(vm)) {
    vm.pushFunction(L, f);
    vm.setField(L, -2, name);
  }
  vm.pushString(L, 'cmsgpack');
  vm.setField(L, -2, '_NAME');
  vm.pushString(L, 'lua-cmsgpack 0.4.0');
  vm.setField(L, -2, '_VERSION');
  vm.pushString(L, 'Copyright (C) 2012, Salvatore Sanfilippo');
  vm.setField(L, -2, '_COPYRIGHT');
  vm.pushString(L, 'MessagePack C implementation for Lua');
  vm.setField(L, -2, '_DESCRIPTION');
  vm.setField(L, LUA_GLOBALSINDEX, 'cmsgpack');
  vm.setTop(L, top);
}
