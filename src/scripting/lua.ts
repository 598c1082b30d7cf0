/**
 * The Lua 5.1 virtual machine Redis embeds (deps/lua, Lua 5.1.5), here the same C sources compiled
 * to WebAssembly by the `wasmoon-lua5.1` package, driven through Lua's C API. Only the package's
 * Emscripten module is used (its `_lua_*` exports, memory and function table), not its JS object
 * bridge: Redis's strings are bytes, and the bridge converts through UTF-8. Here every string
 * crosses as a latin1 JS string (one char per byte, as everywhere in Amber).
 *
 * Errors: a JS function registered with {@link LuaVM.fn} raises a Lua error with {@link LuaVM.error}
 * (lua_error, a longjmp, which Emscripten implements by throwing through the JS frames). Such a
 * function must not throw anything else: a JS exception crossing the VM leaves it unusable.
 */
import { createRequire } from 'node:module';

/** Lua's pseudo-indexes and constants (lua.h of 5.1). */
export const LUA_REGISTRYINDEX = -10000;
export const LUA_GLOBALSINDEX = -10002;
export const LUA_MULTRET = -1;
export const LUA_TNONE = -1;
export const LUA_TNIL = 0;
export const LUA_TBOOLEAN = 1;
export const LUA_TLIGHTUSERDATA = 2;
export const LUA_TNUMBER = 3;
export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;
export const LUA_TUSERDATA = 7;
export const LUA_TTHREAD = 8;
export const LUA_MASKCOUNT = 8;
export const LUA_MASKLINE = 4;
export const LUA_GCCOUNT = 3;
export const LUA_GCSTEP = 5;
export const LUA_GCCOLLECT = 2;
/** lua_pcall / luaL_loadbuffer status codes */
export const LUA_ERRRUN = 2;
export const LUA_ERRSYNTAX = 3;
export const LUA_ERRMEM = 4;
export const LUA_ERRERR = 5;
/** lua_resume's status of a coroutine that yielded */
export const LUA_YIELD = 1;

/**
 * Byte offsets in the 32-bit build's `struct lua_State` (lstate.h of 5.1.5): nCcalls and
 * baseCcalls (unsigned short), hookmask (lu_byte), basehookcount (int), hook (pointer).
 * {@link LuaVM.canYieldFromHook} reads the first two; {@link LuaVM.create} checks the layout
 * through the last three, which lua_sethook sets to known values.
 */
const STATE_NCCALLS = 52;
const STATE_BASECCALLS = 54;
const STATE_HOOKMASK = 56;
const STATE_BASEHOOKCOUNT = 60;
const STATE_HOOK = 68;

/** A lua_State pointer (the main state or a coroutine's). */
export type LuaState = number;
/** A lua_CFunction written in JS: returns how many results it left on the stack. */
export type LuaJsFunction = (L: LuaState) => number;

/** The Emscripten module's exports this wrapper uses (C API functions take and return numbers). */
interface LuaModule {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  HEAPF64: Float64Array;
  addFunction(fn: (...args: number[]) => number | void, sig: string): number;
  _malloc(n: number): number;
  _free(p: number): void;
  _luaL_newstate(): LuaState;
  _luaL_openlibs(L: LuaState): void;
  _luaL_loadbuffer(L: LuaState, buf: number, len: number, name: number): number;
  _lua_close(L: LuaState): void;
  _lua_gettop(L: LuaState): number;
  _lua_settop(L: LuaState, idx: number): void;
  _lua_pushvalue(L: LuaState, idx: number): void;
  _lua_insert(L: LuaState, idx: number): void;
  _lua_remove(L: LuaState, idx: number): void;
  _lua_replace(L: LuaState, idx: number): void;
  _lua_checkstack(L: LuaState, n: number): number;
  _lua_type(L: LuaState, idx: number): number;
  _lua_isnumber(L: LuaState, idx: number): number;
  _lua_isstring(L: LuaState, idx: number): number;
  _lua_tonumber(L: LuaState, idx: number): number;
  _lua_toboolean(L: LuaState, idx: number): number;
  _lua_tolstring(L: LuaState, idx: number, len: number): number;
  _lua_topointer(L: LuaState, idx: number): number;
  _lua_objlen(L: LuaState, idx: number): number;
  _lua_pushnil(L: LuaState): void;
  _lua_pushnumber(L: LuaState, n: number): void;
  _lua_pushlstring(L: LuaState, s: number, len: number): void;
  _lua_pushboolean(L: LuaState, b: number): void;
  _lua_pushcclosure(L: LuaState, fn: number, n: number): void;
  _lua_pushlightuserdata(L: LuaState, p: number): void;
  _lua_gettable(L: LuaState, idx: number): void;
  _lua_getfield(L: LuaState, idx: number, k: number): void;
  _lua_rawget(L: LuaState, idx: number): void;
  _lua_rawgeti(L: LuaState, idx: number, n: number): void;
  _lua_createtable(L: LuaState, narr: number, nrec: number): void;
  _lua_getmetatable(L: LuaState, idx: number): number;
  _lua_settable(L: LuaState, idx: number): void;
  _lua_setfield(L: LuaState, idx: number, k: number): void;
  _lua_rawset(L: LuaState, idx: number): void;
  _lua_rawseti(L: LuaState, idx: number, n: number): void;
  _lua_setmetatable(L: LuaState, idx: number): number;
  _lua_setfenv(L: LuaState, idx: number): number;
  _lua_call(L: LuaState, nargs: number, nresults: number): void;
  _lua_pcall(L: LuaState, nargs: number, nresults: number, errfunc: number): number;
  _lua_error(L: LuaState): number;
  _lua_next(L: LuaState, idx: number): number;
  _lua_gc(L: LuaState, what: number, data: number): number;
  _lua_sethook(L: LuaState, fn: number, mask: number, count: number): number;
  _lua_newthread(L: LuaState): LuaState;
  _lua_resume(L: LuaState, nargs: number): number;
  _lua_yield(L: LuaState, nresults: number): number;
  _lua_status(L: LuaState): number;
  _lua_xmove(from: LuaState, to: LuaState, n: number): void;
  _lua_pushthread(L: LuaState): number;
  _lua_getstack(L: LuaState, level: number, ar: number): number;
  _lua_getinfo(L: LuaState, what: number, ar: number): number;
  _luaL_where(L: LuaState, level: number): void;
  _lua_concat(L: LuaState, n: number): void;
  _luaL_checknumber(L: LuaState, arg: number): number;
  _luaL_checkinteger(L: LuaState, arg: number): number;
  _luaL_checklstring(L: LuaState, arg: number, len: number): number;
  _luaL_optnumber(L: LuaState, arg: number, def: number): number;
  _luaL_optinteger(L: LuaState, arg: number, def: number): number;
  _luaL_argerror(L: LuaState, arg: number, extramsg: number): number;
  _luaL_checktype(L: LuaState, arg: number, t: number): void;
  _luaL_checkany(L: LuaState, arg: number): void;
  _luaL_checkstack(L: LuaState, n: number, msg: number): void;
  _lua_newuserdata(L: LuaState, size: number): number;
  _lua_touserdata(L: LuaState, idx: number): number;
}

/** The package's entry, loaded lazily: only a server that runs a script pays for it. */
interface WasmoonPackage {
  LuaApi: { initialize(wasmPath?: string): Promise<{ module: LuaModule }> };
}

/** sizeof(lua_Debug) in the 32-bit build is under 128 bytes; currentline sits at offset 20. */
const LUA_DEBUG_BYTES = 128;
const LUA_DEBUG_CURRENTLINE = 20;
const LUA_DEBUG_SHORT_SRC = 36;

/**
 * One Lua state in its own WebAssembly instance. Every stack function takes the state it works
 * on (`L`): a JS function called from a coroutine gets the coroutine's state, not {@link main}.
 */
export class LuaVM {
  /** the main state (luaL_newstate, with the standard libraries opened) */
  readonly main: LuaState;
  private heap: Buffer;
  private scratch = 0;
  private scratchSize = 0;
  /** NUL-terminated C strings for field names, allocated once each */
  private readonly names = new Map<string, number>();
  private readonly lenPtr: number;
  private readonly debugPtr: number;

  private constructor(private readonly m: LuaModule) {
    this.heap = Buffer.from(m.HEAPU8.buffer);
    this.main = m._luaL_newstate();
    if (this.main === 0) throw new Error('Lua: luaL_newstate failed (out of WebAssembly memory)');
    this.lenPtr = m._malloc(4);
    this.debugPtr = m._malloc(LUA_DEBUG_BYTES);
  }

  /**
   * Instantiates the WebAssembly module (~15 ms, asynchronous) and creates a state with Lua's
   * standard libraries (luaL_openlibs; the caller removes what a sandbox must not have).
   * @throws Error when the package or its .wasm file cannot be loaded
   */
  static async create(): Promise<LuaVM> {
    const require = createRequire(import.meta.url);
    const pkg = require('wasmoon-lua5.1') as WasmoonPackage;
    const wasmPath = require.resolve('wasmoon-lua5.1/dist/liblua5.1.wasm');
    // The package's build wraps every export in a JS function that checks the runtime is up and
    // builds two assertion messages per call (~1-2 us, most of a short redis.call's cost). The
    // raw exports are taken from the instantiation and put in front of the wrappers.
    const instantiate = WebAssembly.instantiate;
    let raw: WebAssembly.Exports | null = null;
    WebAssembly.instantiate = (async (...args: Parameters<typeof WebAssembly.instantiate>) => {
      const r = await (instantiate as (...a: unknown[]) => Promise<WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource>)(...args);
      raw = ('instance' in r ? r.instance : r).exports;
      return r;
    }) as typeof WebAssembly.instantiate;
    let api: { module: LuaModule };
    try {
      api = await pkg.LuaApi.initialize(wasmPath);
    } finally {
      WebAssembly.instantiate = instantiate;
    }
    let m = api.module;
    if (raw !== null) {
      const exportsRaw: WebAssembly.Exports = raw;
      const fast = Object.create(m) as Record<string, unknown>;
      for (const [name, f] of Object.entries(exportsRaw)) {
        if (typeof f === 'function' && name.startsWith('lua')) fast[`_${name}`] = f;
      }
      m = fast as unknown as LuaModule;
    }
    const vm = new LuaVM(m);
    vm.m._luaL_openlibs(vm.main);
    return vm;
  }

  /** Closes the state (lua_close). The VM must not be used afterwards. */
  close(): void {
    this.m._lua_close(this.main);
  }

  /** The WebAssembly memory as a Buffer, refreshed when the memory grew (its buffer changes). */
  private mem(): Buffer {
    // a grown WebAssembly memory detaches the old ArrayBuffer: its views read as empty
    if (this.heap.length === 0) this.heap = Buffer.from(this.m.HEAPU8.buffer);
    return this.heap;
  }

  /** A scratch area of at least `n` bytes in WebAssembly memory (reused; valid until the next call). */
  private scratchOf(n: number): number {
    if (n > this.scratchSize) {
      if (this.scratch !== 0) this.m._free(this.scratch);
      this.scratchSize = Math.max(n, 256, this.scratchSize * 2);
      this.scratch = this.m._malloc(this.scratchSize);
      if (this.scratch === 0) {
        this.scratchSize = 0;
        throw new Error(`Lua: cannot allocate ${n} bytes of WebAssembly memory`);
      }
    }
    return this.scratch;
  }

  /** The C string of a constant name (field names, chunk names), cached. */
  cstr(name: string): number {
    let p = this.names.get(name);
    if (p === undefined) {
      const n = Buffer.byteLength(name, 'latin1');
      p = this.m._malloc(n + 1);
      this.mem().write(name, p, 'latin1');
      this.mem()[p + n] = 0;
      this.names.set(name, p);
    }
    return p;
  }

  // ---- the stack ----
  top(L: LuaState): number {
    return this.m._lua_gettop(L);
  }
  setTop(L: LuaState, idx: number): void {
    this.m._lua_settop(L, idx);
  }
  pop(L: LuaState, n: number): void {
    this.m._lua_settop(L, -n - 1);
  }
  pushValue(L: LuaState, idx: number): void {
    this.m._lua_pushvalue(L, idx);
  }
  insert(L: LuaState, idx: number): void {
    this.m._lua_insert(L, idx);
  }
  remove(L: LuaState, idx: number): void {
    this.m._lua_remove(L, idx);
  }
  replace(L: LuaState, idx: number): void {
    this.m._lua_replace(L, idx);
  }
  /** lua_checkstack: false when the stack cannot grow by `n` slots. */
  checkStack(L: LuaState, n: number): boolean {
    return this.m._lua_checkstack(L, n) !== 0;
  }
  type(L: LuaState, idx: number): number {
    return this.m._lua_type(L, idx);
  }
  isNumber(L: LuaState, idx: number): boolean {
    return this.m._lua_isnumber(L, idx) !== 0;
  }
  /** lua_isstring: a string or a number. */
  isString(L: LuaState, idx: number): boolean {
    return this.m._lua_isstring(L, idx) !== 0;
  }
  toNumber(L: LuaState, idx: number): number {
    return this.m._lua_tonumber(L, idx);
  }
  toBoolean(L: LuaState, idx: number): boolean {
    return this.m._lua_toboolean(L, idx) !== 0;
  }
  /**
   * lua_tolstring as a latin1 string, or null when the value is neither a string nor a number.
   * Like the C function it converts a number in place to its string (`%.14g`).
   */
  toStr(L: LuaState, idx: number): string | null {
    const p = this.m._lua_tolstring(L, idx, this.lenPtr);
    if (p === 0) return null;
    const len = this.m.HEAPU32[this.lenPtr >> 2]!;
    return this.mem().latin1Slice(p, p + len);
  }
  /** lua_topointer (identity of a table, for cycle checks). */
  toPointer(L: LuaState, idx: number): number {
    return this.m._lua_topointer(L, idx);
  }
  objLen(L: LuaState, idx: number): number {
    return this.m._lua_objlen(L, idx);
  }
  pushNil(L: LuaState): void {
    this.m._lua_pushnil(L);
  }
  pushNumber(L: LuaState, n: number): void {
    this.m._lua_pushnumber(L, n);
  }
  pushBoolean(L: LuaState, b: boolean): void {
    this.m._lua_pushboolean(L, b ? 1 : 0);
  }
  /** Pushes a latin1 string's bytes (binary-safe). */
  pushString(L: LuaState, s: string): void {
    const n = s.length;
    const p = this.scratchOf(n + 1);
    const mem = this.mem();
    if (n < 32) for (let i = 0; i < n; i++) mem[p + i] = s.charCodeAt(i);
    else mem.latin1Write(s, p, n);
    this.m._lua_pushlstring(L, p, n);
  }
  /** Pushes the bytes of a Uint8Array as a Lua string. */
  pushBytes(L: LuaState, b: Uint8Array): void {
    const p = this.scratchOf(b.length + 1);
    this.mem().set(b, p);
    this.m._lua_pushlstring(L, p, b.length);
  }
  pushLightUserdata(L: LuaState, p: number): void {
    this.m._lua_pushlightuserdata(L, p);
  }
  /** Pushes a JS function as a C function (see {@link fn}). */
  pushFunction(L: LuaState, f: LuaJsFunction | number): void {
    this.m._lua_pushcclosure(L, typeof f === 'number' ? f : this.fn(f), 0);
  }
  /**
   * Registers a JS function in the module's function table, once (a table slot is never freed:
   * register at set-up, not per call).
   */
  fn(f: LuaJsFunction): number {
    return this.m.addFunction(f, 'ii');
  }

  // ---- lauxlib argument checks: each raises Lua's own error ("bad argument #1 to 'f' (number
  // expected, got nil)") when the argument does not fit ----
  checkNumber(L: LuaState, arg: number): number {
    return this.m._luaL_checknumber(L, arg);
  }
  /** luaL_checkinteger: the number truncated toward zero (lua_Integer is a 32-bit int here). */
  checkInteger(L: LuaState, arg: number): number {
    return this.m._luaL_checkinteger(L, arg);
  }
  /** luaL_checklstring as a latin1 string (a number argument is converted in place). */
  checkString(L: LuaState, arg: number): string {
    const p = this.m._luaL_checklstring(L, arg, this.lenPtr);
    const len = this.m.HEAPU32[this.lenPtr >> 2]!;
    return this.mem().latin1Slice(p, p + len);
  }
  optNumber(L: LuaState, arg: number, def: number): number {
    return this.m._luaL_optnumber(L, arg, def);
  }
  optInteger(L: LuaState, arg: number, def: number): number {
    return this.m._luaL_optinteger(L, arg, def);
  }
  /** luaL_argerror: "bad argument #arg to 'f' (msg)". Does not return. */
  argError(L: LuaState, arg: number, msg: string): number {
    return this.m._luaL_argerror(L, arg, this.cstr(msg));
  }
  checkType(L: LuaState, arg: number, t: number): void {
    this.m._luaL_checktype(L, arg, t);
  }
  checkAny(L: LuaState, arg: number): void {
    this.m._luaL_checkany(L, arg);
  }
  /** luaL_checkstack: raises "stack overflow (msg)" when the stack cannot grow by `n`. */
  growStack(L: LuaState, n: number, msg: string): void {
    this.m._luaL_checkstack(L, n, this.cstr(msg));
  }

  // ---- tables ----
  newTable(L: LuaState, narr = 0, nrec = 0): void {
    this.m._lua_createtable(L, narr, nrec);
  }
  getField(L: LuaState, idx: number, k: string): void {
    this.m._lua_getfield(L, idx, this.cstr(k));
  }
  setField(L: LuaState, idx: number, k: string): void {
    this.m._lua_setfield(L, idx, this.cstr(k));
  }
  getTable(L: LuaState, idx: number): void {
    this.m._lua_gettable(L, idx);
  }
  setTable(L: LuaState, idx: number): void {
    this.m._lua_settable(L, idx);
  }
  rawGet(L: LuaState, idx: number): void {
    this.m._lua_rawget(L, idx);
  }
  rawSet(L: LuaState, idx: number): void {
    this.m._lua_rawset(L, idx);
  }
  rawGetI(L: LuaState, idx: number, n: number): void {
    this.m._lua_rawgeti(L, idx, n);
  }
  rawSetI(L: LuaState, idx: number, n: number): void {
    this.m._lua_rawseti(L, idx, n);
  }
  /** lua_next: pops a key, pushes the next key and value; false at the end. */
  next(L: LuaState, idx: number): boolean {
    return this.m._lua_next(L, idx) !== 0;
  }
  getMetatable(L: LuaState, idx: number): boolean {
    return this.m._lua_getmetatable(L, idx) !== 0;
  }
  setMetatable(L: LuaState, idx: number): void {
    this.m._lua_setmetatable(L, idx);
  }
  /** lua_setfenv: pops a table and makes it the environment of the function at `idx`. */
  setFenv(L: LuaState, idx: number): boolean {
    return this.m._lua_setfenv(L, idx) !== 0;
  }

  // ---- running code ----
  /**
   * luaL_loadbuffer: compiles `code` (latin1 bytes) as a chunk named `chunkname` and pushes it as a
   * function, or pushes the error message. Returns 0 or LUA_ERRSYNTAX / LUA_ERRMEM.
   */
  load(L: LuaState, code: string, chunkname: string): number {
    const n = code.length;
    const p = this.scratchOf(n + 1);
    this.mem().latin1Write(code, p, n);
    return this.m._luaL_loadbuffer(L, p, n, this.cstr(chunkname));
  }
  /** lua_pcall: 0, or an error status with the error object on the stack. */
  pcall(L: LuaState, nargs: number, nresults: number, errfunc: number): number {
    return this.m._lua_pcall(L, nargs, nresults, errfunc);
  }
  /** lua_call (errors propagate to the enclosing pcall). */
  call(L: LuaState, nargs: number, nresults: number): void {
    this.m._lua_call(L, nargs, nresults);
  }
  /** Raises the value on top of the stack as a Lua error (lua_error). Does not return. */
  raise(L: LuaState): number {
    return this.m._lua_error(L);
  }
  /** Raises a Lua error with message `msg` (latin1), with no position prefix. Does not return. */
  error(L: LuaState, msg: string): number {
    this.pushString(L, msg);
    return this.m._lua_error(L);
  }
  /**
   * luaL_error's form: `msg` prefixed with the position of the calling Lua code (luaL_where(L, 1),
   * "user_script:3: "), raised. Does not return.
   */
  errorWhere(L: LuaState, msg: string): number {
    this.m._luaL_where(L, 1);
    this.pushString(L, msg);
    this.m._lua_concat(L, 2);
    return this.m._lua_error(L);
  }
  /** lua_gc */
  gc(what: number, data: number): number {
    return this.m._lua_gc(this.main, what, data);
  }
  /**
   * Installs (or with 0 removes) a debug hook registered with {@link hookFn} on state `L`
   * (lua_sethook with `mask` and `count`).
   */
  setHook(L: LuaState, hook: number, mask: number, count: number): void {
    this.m._lua_sethook(L, hook, hook === 0 ? 0 : mask, count);
  }
  /**
   * Creates a coroutine sharing the globals of `L` (lua_newthread) and pushes it on `L`'s stack,
   * which keeps it from the collector while it stays there (or anywhere else Lua can reach).
   */
  newThread(L: LuaState): LuaState {
    return this.m._lua_newthread(L);
  }
  /**
   * Starts or resumes coroutine `co` with `nargs` values from its stack (lua_resume): 0 when the
   * function returned (its results on `co`'s stack), {@link LUA_YIELD} when it yielded, else an
   * error status with the error object on top of `co`'s stack (the coroutine is then dead, its
   * call frames kept for debug.getinfo(co, level)).
   */
  resume(co: LuaState, nargs: number): number {
    return this.m._lua_resume(co, nargs);
  }
  /**
   * lua_yield from a debug hook: the coroutine stops after the hook returns and lua_resume
   * answers {@link LUA_YIELD}. Only when {@link canYieldFromHook} says so: a yield across a C call
   * raises "attempt to yield across metamethod/C-call boundary" in the script instead.
   */
  yieldFromHook(co: LuaState): void {
    this.m._lua_yield(co, 0);
  }
  /**
   * lua_yield of the top `n` values, for a C function to return (`return vm.yieldValues(S, n)`,
   * the -1 that luaD_precall reads as a yield).
   */
  yieldValues(co: LuaState, n: number): number {
    return this.m._lua_yield(co, n);
  }
  /** lua_status: 0, {@link LUA_YIELD}, or the error status of a dead coroutine. */
  status(co: LuaState): number {
    return this.m._lua_status(co);
  }
  /** Moves the top `n` values of `from` to `to` (lua_xmove; both of the same global state). */
  xmove(from: LuaState, to: LuaState, n: number): void {
    this.m._lua_xmove(from, to, n);
  }
  /** Pushes thread `L` on its own stack (lua_pushthread); true when `L` is the main thread. */
  pushThread(L: LuaState): boolean {
    return this.m._lua_pushthread(L) === 1;
  }
  /**
   * True when coroutine `co`, stopped in a debug hook, may yield there: no C call (pcall, a
   * metamethod, a comparator of table.sort, a JS function calling back into Lua) lies between
   * the hook and the lua_resume that runs `co` (lua_yield's test, nCcalls <= baseCcalls, read
   * from the state's memory since Lua 5.1 has no lua_isyieldable).
   */
  canYieldFromHook(co: LuaState): boolean {
    const mem = this.mem();
    return mem.readUInt16LE(co + STATE_NCCALLS) <= mem.readUInt16LE(co + STATE_BASECCALLS);
  }
  /**
   * Whether this build's lua_State has the layout {@link canYieldFromHook} reads: lua_sethook's
   * values are found at their 5.1.5 offsets on a fresh coroutine of `L` (popped again).
   */
  stateLayoutChecked(L: LuaState, hook: number): boolean {
    const co = this.newThread(L);
    try {
      this.m._lua_sethook(co, hook, 8, 0x13579);
      const mem = this.mem();
      const ok = mem.readUInt8(co + STATE_HOOKMASK) === 8 && mem.readInt32LE(co + STATE_BASEHOOKCOUNT) === 0x13579 &&
        mem.readUInt32LE(co + STATE_HOOK) === hook && mem.readUInt16LE(co + STATE_NCCALLS) === 0 &&
        mem.readUInt16LE(co + STATE_BASECCALLS) === 0;
      this.m._lua_sethook(co, 0, 0, 0);
      return ok;
    } finally {
      this.m._lua_settop(L, -2);
    }
  }
  /** Registers a JS debug hook `(L) => void` for {@link setHook}. */
  hookFn(f: (L: LuaState) => void): number {
    return this.m.addFunction((L: number) => {
      f(L);
    }, 'vii');
  }
  /**
   * Where the running Lua function at `level` is, as luaL_where sees it: `{source, line}` from
   * lua_getinfo "Sl", or null when there is no such level.
   */
  where(L: LuaState, level: number): { source: string; line: number } | null {
    const ar = this.debugPtr;
    if (this.m._lua_getstack(L, level, ar) === 0) return null;
    this.m._lua_getinfo(L, this.cstr('Sl'), ar);
    const mem = this.mem();
    const line = mem.readInt32LE(ar + LUA_DEBUG_CURRENTLINE);
    let end = ar + LUA_DEBUG_SHORT_SRC;
    while (mem[end] !== 0 && end < ar + LUA_DEBUG_SHORT_SRC + 60) end++;
    return { source: mem.latin1Slice(ar + LUA_DEBUG_SHORT_SRC, end), line };
  }

  // ---- for the C libraries Redis builds into its Lua (src/scripting/libs) ----
  /**
   * lua_pushcclosure with `n` upvalues (the top `n` values, popped) around a JS function
   * registered with {@link fn}; the function reads them at {@link upvalueIndex}.
   */
  pushClosure(L: LuaState, f: number, n: number): void {
    this.m._lua_pushcclosure(L, f, n);
  }
  /** lua_upvalueindex(i): the pseudo-index of the running C closure's upvalue `i` (from 1). */
  static upvalueIndex(i: number): number {
    return LUA_GLOBALSINDEX - i;
  }
  /** lua_newuserdata: pushes a full userdata of `size` bytes; returns its address in WebAssembly memory. */
  newUserdata(L: LuaState, size: number): number {
    return this.m._lua_newuserdata(L, size);
  }
  /** lua_touserdata: the address of a (light or full) userdata, 0 for any other value or NULL. */
  toUserdata(L: LuaState, idx: number): number {
    return this.m._lua_touserdata(L, idx);
  }
  /** The signed 32-bit int at `ptr` in WebAssembly memory (a field of a userdata's C struct). */
  peekI32(ptr: number): number {
    return this.m.HEAPU32[ptr >> 2]! | 0;
  }
  /** Stores a 32-bit int at `ptr` in WebAssembly memory. */
  pokeI32(ptr: number, v: number): void {
    this.m.HEAPU32[ptr >> 2] = v >>> 0;
  }
  /** lua_concat: pops `n` values and pushes their concatenation (numbers converted, metamethods honoured). */
  concat(L: LuaState, n: number): void {
    this.m._lua_concat(L, n);
  }
  /**
   * luaL_argerror with a message built at run time (an option name the script passed): unlike
   * {@link argError} it does not keep the message in the C-string cache. The message is pushed
   * first, so its bytes stay valid while luaL_argerror formats them. Does not return.
   */
  argErrorMsg(L: LuaState, arg: number, msg: string): number {
    this.pushString(L, msg);
    const p = this.m._lua_tolstring(L, -1, this.lenPtr);
    return this.m._luaL_argerror(L, arg, p);
  }
  /**
   * lua_tolstring without a copy: the address of the value's bytes in WebAssembly memory (see
   * {@link heapU8}), 0 when it is neither a string nor a number (a number is converted in place, as
   * lua_tolstring does); {@link lastLength} is their count. Valid while the value stays on the
   * stack and until the next call into the VM (which may grow the memory): use at once.
   */
  toStrPtr(L: LuaState, idx: number): number {
    return this.m._lua_tolstring(L, idx, this.lenPtr);
  }
  /**
   * lua_pushlstring of `len` bytes at address `ptr` of WebAssembly memory (bytes of a string on
   * the stack, found with {@link toStrPtr}): no copy through JS.
   */
  pushFromHeap(L: LuaState, ptr: number, len: number): void {
    this.m._lua_pushlstring(L, ptr, len);
  }
  /** The length {@link toStrPtr} found. */
  get lastLength(): number {
    return this.m.HEAPU32[this.lenPtr >> 2]!;
  }
  /** WebAssembly memory as bytes (a new view after the memory grew: fetch it again after VM calls). */
  heapU8(): Uint8Array {
    return this.m.HEAPU8;
  }
  /**
   * luaL_checkinteger as Redis's 64-bit build computes it: lua_Integer is a ptrdiff_t there, and a
   * lua_Number outside its range converts as x86-64 does (cvttsd2si: NaN and out-of-range give
   * INT64_MIN). The result is that int64 as a double (exact: it came from a double). The
   * argument errors are luaL_checknumber's, which are luaL_checkinteger's.
   */
  checkInteger64(L: LuaState, arg: number): number {
    return toInt64(this.m._luaL_checknumber(L, arg));
  }
  /** luaL_optinteger in Redis's 64-bit form (see {@link checkInteger64}): `def` for none or nil. */
  optInteger64(L: LuaState, arg: number, def: number): number {
    const t = this.m._lua_type(L, arg);
    if (t === LUA_TNONE || t === LUA_TNIL) return def;
    return this.checkInteger64(L, arg);
  }
}

/**
 * A lua_Number cast to int64_t the way x86-64 does it (cvttsd2si): truncated toward zero, and
 * INT64_MIN for NaN or a value outside the int64 range. Exact as a double, since any double of
 * magnitude 2^53 or more is already an integer.
 */
export function toInt64(n: number): number {
  if (!(n >= -9223372036854775808 && n < 9223372036854775808)) return -9223372036854775808;
  return Math.trunc(n);
}
