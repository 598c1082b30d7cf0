/**
 * The `struct` library Redis builds into its Lua (deps/lua/src/lua_struct.c: Roberto
 * Ierusalimschy's struct.c 1.4, with Redis's overflow fixes): struct.pack, struct.unpack and
 * struct.size over C-like binary layouts, with the sizes and alignment of Redis's x86-64 build
 * (long, size_t and double are 8 bytes, int 4, short 2; `!` aligns to 8 by default; little-endian
 * native order). Integers go through the C casts as x86-64 performs them.
 */
import { ByteBuffer } from './bytes.js';
import { LuaVM, toInt64, type LuaState } from '../lua.js';
import { registerLib } from './bit.js';

const BIG = 0;
const LITTLE = 1;
/** struct.c MAXINTSIZE: the largest `i`/`I` size */
const MAXINTSIZE = 32;
/** struct.c MAXALIGN: max(offsetof(struct {char c; double d;}, d), sizeof(int)) on x86-64 */
const MAXALIGN = 8;
const SIZEOF_INT = 4;
const SIZEOF_LONG = 8;
const MASK64 = (1n << 64n) - 1n;

/** The parse state of one format string (a C string: it ends at its first NUL). */
interface Fmt {
  s: string;
  at: number;
  endian: number;
  align: number;
}

function newFmt(s: string): Fmt {
  const nul = s.indexOf('\0');
  return { s: nul < 0 ? s : s.slice(0, nul), at: 0, endian: LITTLE, align: 1 };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** isalnum in the C locale (Redis never sets LC_CTYPE) */
function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** struct.c getnum: the decimal number at the cursor, or `df`; refuses one past INT_MAX. */
function getnum(vm: LuaVM, L: LuaState, f: Fmt, df: number): number {
  if (!isDigit(f.s.charCodeAt(f.at))) return df;
  let a = 0;
  // bounded by the format's length; the overflow check stops it below 2^31 anyway
  while (f.at < f.s.length && isDigit(f.s.charCodeAt(f.at))) {
    const d = f.s.charCodeAt(f.at) - 0x30;
    if (a > 214748364 || a * 10 > 2147483647 - d) vm.errorWhere(L, 'integral size overflow');
    a = a * 10 + d;
    f.at++;
  }
  return a;
}

/** struct.c optsize: the size of option `opt` (0 for the options that are not values). */
function optsize(vm: LuaVM, L: LuaState, opt: string, f: Fmt): number {
  switch (opt) {
    case 'B': case 'b': case 'x': return 1;
    case 'H': case 'h': return 2;
    case 'L': case 'l': case 'T': case 'd': return SIZEOF_LONG;
    case 'f': return 4;
    case 'c': return getnum(vm, L, f, 1);
    case 'i': case 'I': {
      const sz = getnum(vm, L, f, SIZEOF_INT);
      if (sz > MAXINTSIZE) vm.errorWhere(L, `integral size ${sz} is larger than limit of ${MAXINTSIZE}`);
      return sz;
    }
    default: return 0;
  }
}

/** `len & m` as size_t arithmetic does it, for a position that may exceed 2^31. */
function andLow(len: number, m: number): number {
  return len < 2147483648 ? len & m : (len % 4294967296) & m;
}

/** struct.c gettoalign: padding bytes before an item of `size` at offset `len`. */
function gettoalign(len: number, f: Fmt, opt: string, size: number): number {
  if (size === 0 || opt === 'c') return 0;
  if (size > f.align) size = f.align;
  return (size - andLow(len, size - 1)) & (size - 1);
}

/** struct.c controloptions: endianness, alignment, spaces; anything else is refused. */
function controloptions(vm: LuaVM, L: LuaState, opt: string, f: Fmt): void {
  switch (opt) {
    case ' ': return;
    case '>': f.endian = BIG; return;
    case '<': f.endian = LITTLE; return;
    case '!': {
      const a = getnum(vm, L, f, MAXALIGN);
      if (!(a > 0 && (a & (a - 1)) === 0)) vm.errorWhere(L, `alignment ${a} is not a power of 2`);
      f.align = a;
      return;
    }
    default:
      vm.argErrorMsg(L, 1, `invalid format option '${opt}'`);
  }
}


/** The output of struct.pack (a luaL_Buffer in the C). */
class Bytes extends ByteBuffer {
  constructor() {
    super(64);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string, n: number): void {
    this.reserve(n);
    this.buf.latin1Write(s, this.len, n);
    this.len += n;
  }
}

/**
 * The uint64 a lua_Number becomes in struct.c putinteger: (Uinttype)(Inttype)n for a negative
 * number, (Uinttype)n otherwise, with x86-64's conversions (NaN and out-of-range values give
 * 2^63 through cvttsd2si; from 2^64 up the unsigned sequence yields 0).
 */
function toUint64(n: number): bigint {
  if (n < 0) return BigInt.asUintN(64, BigInt(toInt64(n)));
  if (n !== n) return 1n << 63n;
  if (n >= 18446744073709551616) return 0n;
  return BigInt(Math.trunc(n));
}

function putinteger(vm: LuaVM, L: LuaState, out: Bytes, arg: number, endian: number, size: number): void {
  let value = toUint64(vm.checkNumber(L, arg));
  const buff = new Uint8Array(size);
  // past 8 bytes the 64-bit value has been shifted out: the rest are zeros, sign or not
  for (let i = 0; i < size; i++) {
    buff[endian === LITTLE ? i : size - 1 - i] = Number(value & 0xffn);
    value >>= 8n;
  }
  out.bytes(buff);
}

const scratch = new DataView(new ArrayBuffer(8));

function b_pack(vm: LuaVM, L: LuaState): number {
  const f = newFmt(vm.checkString(L, 1));
  let arg = 2;
  let totalsize = 0;
  // the C's mark between the arguments and its luaL_Buffer's pieces: a format asking for one
  // value more than given finds nil there ("got nil", not "got no value"), and can go no further
  vm.pushNil(L);
  const out = new Bytes();
  while (f.at < f.s.length) {
    const opt = f.s[f.at++]!;
    let size = optsize(vm, L, opt, f);
    let toalign = gettoalign(totalsize, f, opt, size);
    totalsize += toalign;
    while (toalign-- > 0) out.byte(0);
    switch (opt) {
      case 'b': case 'B': case 'h': case 'H':
      case 'l': case 'L': case 'T': case 'i': case 'I':
        putinteger(vm, L, out, arg++, f.endian, size);
        break;
      case 'x':
        out.byte(0);
        break;
      case 'f': {
        scratch.setFloat32(0, vm.checkNumber(L, arg++), f.endian === LITTLE);
        out.bytes(new Uint8Array(scratch.buffer, 0, 4));
        break;
      }
      case 'd': {
        scratch.setFloat64(0, vm.checkNumber(L, arg++), f.endian === LITTLE);
        out.bytes(new Uint8Array(scratch.buffer, 0, 8));
        break;
      }
      case 'c': case 's': {
        const s = vm.checkString(L, arg++);
        if (size === 0) size = s.length;
        // the C checks the argument after the one it read (arg was already advanced)
        if (s.length < size) vm.argError(L, arg, 'string too short');
        out.str(s, size);
        if (opt === 's') {
          out.byte(0);
          size++;
        }
        break;
      }
      default:
        controloptions(vm, L, opt, f);
    }
    totalsize += size;
  }
  vm.pushBytes(L, out.buf.subarray(0, out.len));
  return 1;
}

/** struct.c getinteger: the bytes at `pos` as the uint64/int64 C reads, converted to a lua_Number. */
function getinteger(data: string, pos: number, endian: number, issigned: boolean, size: number): number {
  let l = 0n;
  for (let i = 0; i < size; i++) {
    const c = data.charCodeAt(endian === BIG ? pos + i : pos + size - 1 - i);
    l = ((l << 8n) | BigInt(c)) & MASK64;
  }
  if (!issigned) return Number(l);
  // x86-64 masks a variable shift count to 6 bits: sizes over 8 (and 0) shift by 63 or less
  const mask = (MASK64 << BigInt((size * 8 - 1) & 63)) & MASK64;
  if (l & mask) l |= mask;
  return Number(BigInt.asIntN(64, l));
}

function b_unpack(vm: LuaVM, L: LuaState): number {
  const f = newFmt(vm.checkString(L, 1));
  const data = vm.checkString(L, 2);
  const ld = data.length;
  const start = vm.optInteger64(L, 3, 1);
  // size_t pos: a negative offset wraps to a huge one that every item's bounds check refuses
  // (before any alignment could wrap it back); an empty format returns it unchanged
  if (start === 0) vm.argError(L, 3, 'offset must be 1 or greater');
  let pos = start < 0 ? Infinity : start - 1;
  let n = 0;
  while (f.at < f.s.length) {
    const opt = f.s[f.at++]!;
    let size = optsize(vm, L, opt, f);
    pos += gettoalign(pos, f, opt, size);
    if (!(size <= ld && pos <= ld - size)) vm.argError(L, 2, 'data string too short');
    // stack space for the item and the next position
    vm.growStack(L, 2, 'too many results');
    switch (opt) {
      case 'b': case 'B': case 'h': case 'H':
      case 'l': case 'L': case 'T': case 'i': case 'I':
        vm.pushNumber(L, getinteger(data, pos, f.endian, opt >= 'a', size));
        n++;
        break;
      case 'x':
        break;
      case 'f':
      case 'd': {
        for (let i = 0; i < size; i++) scratch.setUint8(i, data.charCodeAt(pos + i));
        vm.pushNumber(L, size === 4 ? scratch.getFloat32(0, f.endian === LITTLE) : scratch.getFloat64(0, f.endian === LITTLE));
        n++;
        break;
      }
      case 'c': {
        if (size === 0) {
          if (n === 0 || !vm.isNumber(L, -1)) vm.errorWhere(L, "format 'c0' needs a previous size");
          size = toSizeT(vm.toNumber(L, -1));
          vm.pop(L, 1);
          n--;
          if (!(size <= ld && pos <= ld - size)) vm.argError(L, 2, 'data string too short');
        }
        vm.pushString(L, data.slice(pos, pos + size));
        n++;
        break;
      }
      case 's': {
        const e = data.indexOf('\0', pos);
        if (e < 0) vm.errorWhere(L, 'unfinished string in data');
        size = e - pos + 1;
        vm.pushString(L, data.slice(pos, e));
        n++;
        break;
      }
      default:
        controloptions(vm, L, opt, f);
    }
    pos += size;
  }
  vm.pushNumber(L, pos === Infinity ? start : pos + 1);
  return n + 1;
}

/**
 * (size_t) of a lua_Number as x86-64 code does it: below 2^63 through cvttsd2si, so a negative
 * or NaN value wraps to 2^63 or more; any such huge size fails the bounds check after it.
 */
function toSizeT(n: number): number {
  if (n >= 0 && n < 18446744073709551616) return Math.trunc(n);
  return Infinity;
}

function b_size(vm: LuaVM, L: LuaState): number {
  const f = newFmt(vm.checkString(L, 1));
  let pos = 0;
  while (f.at < f.s.length) {
    const opt = f.s[f.at++]!;
    const size = optsize(vm, L, opt, f);
    pos += gettoalign(pos, f, opt, size);
    if (opt === 's') vm.argError(L, 1, "option 's' has no fixed size");
    else if (opt === 'c' && size === 0) vm.argError(L, 1, "option 'c0' has no fixed size");
    if (!isAlnum(opt.charCodeAt(0))) controloptions(vm, L, opt, f);
    pos += size;
  }
  vm.pushNumber(L, pos);
  return 1;
}

/** The JS functions of one VM, registered once (function-table slots are never freed). */
const registered = new WeakMap<LuaVM, Array<[string, number]>>();

/**
 * Opens the `struct` library as Redis does (lua_struct.c luaopen_struct: luaL_register(L,
 * "struct", ...)): the global table `struct` with pack, unpack and size. The stack is left as
 * found.
 */
export function openStruct(vm: LuaVM, L: LuaState): void {
  let fns = registered.get(vm);
  if (!fns) {
    fns = [
      ['pack', vm.fn((L) => b_pack(vm, L))],
      ['unpack', vm.fn((L) => b_unpack(vm, L))],
      ['size', vm.fn((L) => b_size(vm, L))],
    ];
    registered.set(vm, fns);
  }
  const top = vm.top(L);
  registerLib(vm, L, 'struct', fns);
  vm.setTop(L, top);
}
