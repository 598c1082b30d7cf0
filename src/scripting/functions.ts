/**
 * The Lua engine of Redis 7.0.15's functions (src/function_lua.c): a Lua state of its own (as
 * Redis has one apart from EVAL's). While a library's code runs, its globals are only the library
 * API (`redis.register_function`, `redis.log`, the LOG_* and version constants); afterwards its
 * functions run with the full sandbox of script-lua.ts and get KEYS and ARGV as their two
 * arguments. The libraries themselves are kept by function-registry.ts.
 */
import { LuaVM, type LuaState, LUA_REGISTRYINDEX, LUA_GLOBALSINDEX, LUA_TNIL, LUA_TTABLE, LUA_TSTRING, LUA_TFUNCTION, LUA_MASKCOUNT } from './lua.js';
import { LuaEngine, FLAG_NAMES, LOG_AND_VERSION_NUMBERS } from './script-lua.js';
import { REDIS_VERSION } from '../server/server.js';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { validName, type FunctionInfo, type LibraryInfo } from './function-registry.js';

/** What a library load is building, while its code runs (loadCtx). */
interface LoadCtx {
  lib: LibraryInfo;
  startedAt: number;
  /** ms; 0: no limit */
  timeout: number;
}

/**
 * The function engine (function_lua.c): a Lua state whose library loads see only the library
 * API, and whose functions run like EVAL scripts with KEYS and ARGV as arguments.
 */
export class FunctionEngine extends LuaEngine {
  private loading: LoadCtx | null = null;
  private slots = 0;
  private readonly loadHook: number;

  private constructor(server: Server, vm: LuaVM) {
    super(server, vm, 'function');
    this.loadHook = vm.hookFn((S) => this.checkLoadTimeout(S));
    const L = this.L;
    vm.newTable(L);
    vm.setField(L, LUA_REGISTRYINDEX, '__amber_functions');
    this.buildLibraryApi();
  }

  /**
   * Loads a Lua VM for functions.
   * @throws Error when the VM cannot be loaded (the wasmoon-lua5.1 package or its .wasm missing)
   */
  static async create(server: Server): Promise<FunctionEngine> {
    return new FunctionEngine(server, await LuaVM.create());
  }

  /**
   * The globals a library's code sees while it loads (LIBRARY_API): `redis` with
   * register_function, log, the LOG_* levels and the version, nothing else. Both tables are
   * read-only and raise "Script attempted to access nonexistent global variable" on a missing
   * name, as luaSetErrorMetatable makes them.
   */
  private buildLibraryApi(): void {
    const vm = this.vm;
    const L = this.L;
    const errorMetatable = (): void => {
      vm.newTable(L);
      vm.pushFunction(L, this.missingGlobalFn);
      vm.setField(L, -2, '__index');
      vm.setMetatable(L, -2);
    };
    vm.newTable(L); // the library API's globals
    const api = vm.top(L);
    vm.newTable(L); // its redis table
    const redis = vm.top(L);
    vm.pushFunction(L, (S) => this.registerFunction(S));
    vm.setField(L, redis, 'register_function');
    vm.pushFunction(L, (S) => this.redisLog(S));
    vm.setField(L, redis, 'log');
    for (const [name, n] of LOG_AND_VERSION_NUMBERS) {
      vm.pushNumber(L, n);
      vm.setField(L, redis, name);
    }
    vm.pushString(L, REDIS_VERSION);
    vm.setField(L, redis, 'REDIS_VERSION');
    errorMetatable();
    this.pushReadonlyProxy(redis, true);
    vm.setField(L, api, 'redis');
    vm.pop(L, 1);
    errorMetatable();
    this.pushReadonlyProxy(api, true);
    vm.setField(L, LUA_REGISTRYINDEX, '__amber_library_api');
    vm.pop(L, 1);
  }

  /** Points the globals proxy's reads at the library API (`load` true) or back at the real globals. */
  private libraryGlobals(load: boolean): void {
    const vm = this.vm;
    const L = this.L;
    vm.getMetatable(L, LUA_GLOBALSINDEX);
    vm.getField(L, LUA_REGISTRYINDEX, load ? '__amber_library_api' : '__amber_globals');
    vm.setField(L, -2, '__index');
    vm.pop(L, 1);
  }

  /** luaEngineLoadHook: a library's load-time code past its timeout is stopped with an error. */
  private checkLoadTimeout(S: LuaState): void {
    const ctx = this.loading;
    if (ctx === null || ctx.timeout === 0 || performance.now() - ctx.startedAt <= ctx.timeout) return;
    this.vm.setHook(S, 0, 0, 0);
    this.pushErrorTable(S, 'FUNCTION LOAD timeout', false);
    this.vm.raise(S);
  }

  /**
   * Compiles a library's code and runs it so that it registers its functions into `lib`
   * (luaEngineCreate). `code` starts at the shebang's newline. Returns null, or the error text.
   */
  createLibrary(lib: LibraryInfo, code: string, timeout: number): string | null {
    const vm = this.vm;
    const L = this.L;
    const base = vm.top(L);
    this.libraryGlobals(true);
    try {
      if (vm.load(L, code, '@user_function') !== 0) {
        return `Error compiling function: ${vm.toStr(L, -1) ?? ''}`;
      }
      this.loading = { lib, startedAt: performance.now(), timeout };
      vm.setHook(L, this.loadHook, LUA_MASKCOUNT, 100000);
      if (vm.pcall(L, 0, 0, 0) !== 0) {
        let msg: string;
        if (vm.isString(L, -1)) msg = `ERR ${vm.toStr(L, -1)!}`;
        else if (vm.type(L, -1) === LUA_TTABLE) {
          vm.getField(L, -1, 'err');
          msg = vm.isString(L, -1) ? vm.toStr(L, -1)! : '';
        } else msg = '';
        return `Error registering functions: ${msg}`;
      }
      return null;
    } finally {
      vm.setHook(L, 0, 0, 0);
      this.loading = null;
      this.libraryGlobals(false);
      vm.setTop(L, base);
    }
  }

  /** Drops the callbacks of a library that is gone or was never linked (luaEngineFreeFunction). */
  freeLibrary(lib: LibraryInfo): void {
    const vm = this.vm;
    const L = this.L;
    vm.getField(L, LUA_REGISTRYINDEX, '__amber_functions');
    for (const fi of lib.functions.values()) {
      vm.pushNil(L);
      vm.rawSetI(L, -2, fi.slot);
    }
    vm.pop(L, 1);
  }

  /** Runs function `fi` for client `c` (luaEngineCall through fcallCommandGeneric), replying to `c`. */
  call(c: Client, fi: FunctionInfo, keys: string[], args: string[], ro: boolean): void {
    this.execute(c, fi.name, fi.flags, ro, () => {
      const vm = this.vm;
      const L = this.L;
      vm.getField(L, LUA_REGISTRYINDEX, '__amber_functions');
      vm.rawGetI(L, -1, fi.slot);
      vm.remove(L, -2);
      this.pushArray(keys);
      this.pushArray(args);
      return 2;
    });
  }

  /** A string argument as luaGetStringSds takes it (a number too, as text), else null. */
  private stringArg(S: LuaState, idx: number): string | null {
    return this.vm.isString(S, idx) ? this.vm.toStr(S, idx) : null;
  }

  /** Raises a Redis error from a C function (luaPushError + luaError). */
  private fail(S: LuaState, msg: string): number {
    this.pushErrorTable(S, msg, false);
    return this.vm.raise(S);
  }

  /** Stores the callback at stack index `idx` in the registry table; returns its slot. */
  private storeCallback(S: LuaState, idx: number): number {
    const vm = this.vm;
    const slot = ++this.slots;
    vm.getField(S, LUA_REGISTRYINDEX, '__amber_functions');
    vm.pushValue(S, idx < 0 ? idx - 1 : idx);
    vm.rawSetI(S, -2, slot);
    vm.pop(S, 1);
    return slot;
  }

  /** redis.register_function(name, callback) or redis.register_function{...} (luaRegisterFunction). */
  private registerFunction(S: LuaState): number {
    const vm = this.vm;
    const ctx = this.loading;
    if (ctx === null) return this.fail(S, 'redis.register_function can only be called on FUNCTION LOAD command');
    const argc = vm.top(S);
    if (argc < 1 || argc > 2) return this.fail(S, 'wrong number of arguments to redis.register_function');
    let name: string | null = null;
    let desc: string | null = null;
    let flags = 0;
    let callback = false;
    if (argc === 2) {
      name = this.stringArg(S, 1);
      if (name === null) return this.fail(S, 'first argument to redis.register_function must be a string');
      if (vm.type(S, 2) !== LUA_TFUNCTION) return this.fail(S, 'second argument to redis.register_function must be a function');
      vm.pushValue(S, 2);
      callback = true;
    } else {
      if (vm.type(S, 1) !== LUA_TTABLE) {
        return this.fail(S, 'calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).');
      }
      // the callback, once found, waits at stack index 2
      vm.pushNil(S);
      vm.pushNil(S);
      while (vm.next(S, 1)) {
        // only string keys: Redis reads a number key with lua_tostring, which breaks lua_next
        if (vm.type(S, -2) !== LUA_TSTRING) return this.fail(S, vm.isString(S, -2) ? 'unknown argument given to redis.register_function' : 'named argument key given to redis.register_function is not a string');
        const key = vm.toStr(S, -2)!.toLowerCase();
        if (key === 'function_name') {
          name = this.stringArg(S, -1);
          if (name === null) return this.fail(S, 'function_name argument given to redis.register_function must be a string');
        } else if (key === 'description') {
          desc = this.stringArg(S, -1);
          if (desc === null) return this.fail(S, 'description argument given to redis.register_function must be a string');
        } else if (key === 'callback') {
          if (vm.type(S, -1) !== LUA_TFUNCTION) return this.fail(S, 'callback argument given to redis.register_function must be a function');
          vm.pushValue(S, -1);
          vm.replace(S, 2);
          callback = true;
        } else if (key === 'flags') {
          if (vm.type(S, -1) !== LUA_TTABLE) return this.fail(S, 'flags argument to redis.register_function must be a table representing function flags');
          const f = this.readFlags(S);
          if (f === null) return this.fail(S, 'unknown flag given');
          flags = f;
        } else {
          return this.fail(S, 'unknown argument given to redis.register_function');
        }
        vm.pop(S, 1);
      }
      if (name === null) return this.fail(S, 'redis.register_function must get a function name argument');
      if (!callback) return this.fail(S, 'redis.register_function must get a callback argument');
      vm.pushValue(S, 2);
    }
    // functionLibCreateFunction
    if (!validName(name)) return this.fail(S, 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long');
    const lib = ctx.lib;
    if (lib.functions.has(name)) return this.fail(S, 'Function already exists in the library');
    const slot = this.storeCallback(S, -1);
    lib.functions.set(name, { name, desc, flags, slot, lib });
    return 0;
  }

  /** The flags table on top of the stack (luaRegisterFunctionReadFlags), or null on an unknown flag. */
  private readFlags(S: LuaState): number | null {
    const vm = this.vm;
    let flags = 0;
    for (let j = 1; ; j++) {
      vm.pushNumber(S, j);
      vm.getTable(S, -2);
      if (vm.type(S, -1) === LUA_TNIL) {
        vm.pop(S, 1);
        return flags;
      }
      const s = this.stringArg(S, -1);
      vm.pop(S, 1);
      if (s === null) return null;
      const def = FLAG_NAMES.find(([n]) => n === s.toLowerCase());
      if (def === undefined) return null;
      flags |= def[1];
    }
  }
}

