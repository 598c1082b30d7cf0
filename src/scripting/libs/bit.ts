/**
 * LuaBitOp 1.0.2, the `bit` library Redis builds into its Lua (deps/lua/src/lua_bit.c): bitwise
 * operations on 32-bit integers. Every argument goes through the C library's conversion (the
 * number plus 2^52+2^51, then the low 32 bits of the double: rounding to nearest, modulo 2^32),
 * and every result is a signed 32-bit number.
 */
import { LuaVM, LUA_GLOBALSINDEX, LUA_REGISTRYINDEX, LUA_TNONE, LUA_TTABLE, type LuaState } from '../lua.js';

/** The argument conversion's scratch: a double and its two 32-bit halves (little-endian). */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * lua_bit.c barg: argument `idx` as the unsigned 32-bit value the C library computes, raising
 * "number expected" as it does when the value is 0 and the argument is not a number.
 */
function barg(vm: LuaVM, L: LuaState, idx: number): number {
  f64[0] = vm.toNumber(L, idx) + 6755399441055744.0;
  const b = u32[0]!;
  // luaL_typerror(L, idx, "number") is luaL_checknumber's own error
  if (b === 0 && !vm.isNumber(L, idx)) vm.checkNumber(L, idx);
  return b;
}

/** The JS functions of one VM, registered once (function-table slots are never freed). */
const registered = new WeakMap<LuaVM, Array<[string, number]>>();

function bitFunctions(vm: LuaVM): Array<[string, number]> {
  let fns = registered.get(vm);
  if (fns) return fns;
  const ret = (L: LuaState, b: number): number => {
    vm.pushNumber(L, b | 0);
    return 1;
  };
  // each BIT_OP folds from the last argument down to the second, as the C loop does, so a bad
  // argument nearer the end is the one reported
  const fold = (op: (a: number, b: number) => number) => (L: LuaState): number => {
    let b = barg(vm, L, 1);
    for (let i = vm.top(L); i > 1; i--) b = op(b, barg(vm, L, i));
    return ret(L, b);
  };
  const shift = (op: (b: number, n: number) => number) => (L: LuaState): number => {
    const b = barg(vm, L, 1);
    const n = barg(vm, L, 2) & 31;
    return ret(L, op(b, n));
  };
  const table: Array<[string, (L: LuaState) => number]> = [
    ['tobit', (L) => ret(L, barg(vm, L, 1))],
    ['bnot', (L) => ret(L, ~barg(vm, L, 1))],
    ['band', fold((a, b) => a & b)],
    ['bor', fold((a, b) => a | b)],
    ['bxor', fold((a, b) => a ^ b)],
    ['lshift', shift((b, n) => b << n)],
    ['rshift', shift((b, n) => b >>> n)],
    ['arshift', shift((b, n) => (b | 0) >> n)],
    // a shift by 32 is a shift by 0 on x86 (the count is masked), as it is in JS
    ['rol', shift((b, n) => (b << n) | (b >>> (32 - n)))],
    ['ror', shift((b, n) => (b << (32 - n)) | (b >>> n))],
    ['bswap', (L) => {
      const b = barg(vm, L, 1);
      return ret(L, (b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
    }],
    ['tohex', (L) => tohex(vm, L)],
  ];
  fns = table.map(([name, f]) => [name, vm.fn(f)]);
  registered.set(vm, fns);
  return fns;
}

const LOWER = '0123456789abcdef';
const UPPER = '0123456789ABCDEF';

/** bit.tohex(x [, n]): n digits (8 by default; negative for upper case; at most 8). */
function tohex(vm: LuaVM, L: LuaState): number {
  let b = barg(vm, L, 1);
  let n = vm.type(L, 2) === LUA_TNONE ? 8 : barg(vm, L, 2) | 0;
  let digits = LOWER;
  if (n < 0) {
    n = -n | 0;
    digits = UPPER;
  }
  if (n > 8) n = 8;
  if (n < 0) {
    // -(-2^31) stays negative in C, and lua_pushlstring is then asked for (size_t)n bytes: the
    // allocation Lua refuses (luaM_toobig) before anything else
    return vm.error(L, 'memory allocation error: block too big');
  }
  let s = '';
  for (let i = 0; i < n; i++) {
    s = digits[b & 15]! + s;
    b >>>= 4;
  }
  vm.pushString(L, s);
  return 1;
}

/**
 * luaL_register(L, name, funcs) of Lua 5.1 (lauxlib.c luaI_openlib): the table `_LOADED[name]`, or
 * else the global `name`, or else a new table (sized for `funcs`) made both, filled with the
 * functions in order. The table is left on the stack.
 */
export function registerLib(vm: LuaVM, L: LuaState, name: string, funcs: Array<[string, number]>): void {
  vm.getField(L, LUA_REGISTRYINDEX, '_LOADED');
  if (vm.type(L, -1) !== LUA_TTABLE) {
    vm.pop(L, 1);
    vm.newTable(L);
    vm.pushValue(L, -1);
    vm.setField(L, LUA_REGISTRYINDEX, '_LOADED');
  }
  vm.getField(L, -1, name);
  if (vm.type(L, -1) !== LUA_TTABLE) {
    vm.pop(L, 1);
    vm.getField(L, LUA_GLOBALSINDEX, name);
    // luaL_findtable refuses a global of another type ("name conflict for module"); at set-up,
    // with no caller to raise that to, the library replaces it
    if (vm.type(L, -1) !== LUA_TTABLE) {
      vm.pop(L, 1);
      vm.newTable(L, 0, funcs.length);
      vm.pushValue(L, -1);
      vm.setField(L, LUA_GLOBALSINDEX, name);
    }
    vm.pushValue(L, -1);
    vm.setField(L, -3, name);
  }
  vm.remove(L, -2);
  for (const [k, f] of funcs) {
    vm.pushFunction(L, f);
    vm.setField(L, -2, k);
  }
}

/**
 * Opens the `bit` library as Redis does (lua_bit.c luaopen_bit: luaL_register(L, "bit", ...)):
 * the global table `bit` with tobit, bnot, band, bor, bxor, lshift, rshift, arshift, rol, ror,
 * bswap and tohex. The stack is left as found.
 */
export function openBit(vm: LuaVM, L: LuaState): void {
  const top = vm.top(L);
  registerLib(vm, L, 'bit', bitFunctions(vm));
  vm.setTop(L, top);
}
