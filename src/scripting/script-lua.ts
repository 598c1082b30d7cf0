/**
 * What Redis 7.0.15's two Lua engines share (src/script_lua.c, src/script.c): a Lua 5.1 state
 * with the `redis` API (call, pcall, error_reply, status_reply, sha1hex, log, setresp, set_repl,
 * replicate_commands, breakpoint, debug, acl_check_cmd), Redis's math.random, the sandbox, the
 * run of one script or function with scriptPrepareForRun's checks, and the conversions between
 * Lua values and RESP. EVAL's engine (engine.ts) and the function engine (functions.ts) are its
 * subclasses, each with a state of its own, as in Redis.
 *
 * The sandbox. Redis 7.0.15 makes the globals table and every library table read-only with a
 * patch to its Lua (lua_enablereadonlytable), which a stock Lua cannot carry. Here the state's
 * globals table is replaced by an empty proxy whose metatable reads through to the real table
 * and refuses every write, and each library table (string, math, redis, cjson...) is seen through
 * a proxy of its own. rawset, setmetatable, rawget, next, pairs and ipairs are wrapped so that
 * they refuse writes to a proxy and read through it. The errors are Redis's: "Attempt to modify a
 * readonly table", "Script attempted to access nonexistent global variable 'x'".
 *
 * Scripts run on the event loop, atomically, as in Redis, each in a coroutine of the state. Past
 * `busy-reply-threshold` the count hook yields that coroutine, so that the event loop answers other
 * clients (-BUSY but for allow_busy commands, SCRIPT KILL, FUNCTION KILL) while the caller's command
 * is suspended (server/suspend.ts); Redis serves them from inside the hook instead
 * (processEventsWhileBlocked), which Node cannot. Lua 5.1 cannot yield across a C call, so the hook
 * yields only at the script's own level, never inside pcall, a metamethod or a callback.
 */
import { createHash } from 'node:crypto';
import {
  LuaVM, type LuaState, LUA_REGISTRYINDEX, LUA_GLOBALSINDEX, LUA_TNIL, LUA_TBOOLEAN, LUA_TNUMBER,
  LUA_TSTRING, LUA_TTABLE, LUA_MASKCOUNT, LUA_MASKLINE, LUA_GCSTEP, LUA_GCCOUNT, LUA_GCCOLLECT, LUA_YIELD,
} from './lua.js';
import { suspendCommand, completeSuspended } from '../server/suspend.js';
import { openRedisLibs } from './libs/index.js';
import type { Server } from '../server/server.js';
import type { CommandSpec } from '../commands/spec.js';
import { REDIS_VERSION } from '../server/server.js';
import { Client } from '../server/client.js';
import { lookupCommand, call } from '../server/dispatch.js';
import { ACL_OK, ACL_DENIED_CMD, ACL_DENIED_KEY, type AclDenial } from '../server/acl/check.js';
import { beginDenyBlocking, endDenyBlocking } from '../server/blocking.js';
import { EVICT_FAIL } from '../keyspace/evict.js';
import { formatG } from '../util/number.js';
import { MAY_REPLICATE } from '../commands/client.js';

/** Script flags from a `#!lua flags=...` shebang (scripts_flags_def in script.c). */
export const SCRIPT_FLAG_NO_WRITES = 1;
export const SCRIPT_FLAG_ALLOW_OOM = 2;
export const SCRIPT_FLAG_ALLOW_STALE = 4;
export const SCRIPT_FLAG_NO_CLUSTER = 8;
export const SCRIPT_FLAG_ALLOW_CROSS_SLOT = 16;
/** No shebang: EVAL's pre-7.0 behaviour (SCRIPT_FLAG_EVAL_COMPAT_MODE). */
export const SCRIPT_FLAG_EVAL_COMPAT_MODE = 32;

export const FLAG_NAMES: ReadonlyArray<[string, number]> = [
  ['no-writes', SCRIPT_FLAG_NO_WRITES],
  ['allow-oom', SCRIPT_FLAG_ALLOW_OOM],
  ['allow-stale', SCRIPT_FLAG_ALLOW_STALE],
  ['no-cluster', SCRIPT_FLAG_NO_CLUSTER],
  ['allow-cross-slot-keys', SCRIPT_FLAG_ALLOW_CROSS_SLOT],
];

/** REDIS_VERSION_NUM of 7.0.15: 0x00MMmmpp (458767). */
const REDIS_VERSION_NUM = 0x07000f;
/**
 * The `redis` table's log levels and version number (luaRegisterLogFunction,
 * luaRegisterVersion): in the run-time API and in the function engine's library API.
 */
export const LOG_AND_VERSION_NUMBERS: ReadonlyArray<[string, number]> = [
  ['LOG_DEBUG', 0], ['LOG_VERBOSE', 1], ['LOG_NOTICE', 2], ['LOG_WARNING', 3],
  ['REDIS_VERSION_NUM', REDIS_VERSION_NUM],
];
/** Log levels of redis.log (LL_DEBUG..LL_WARNING). */
const LOG_LEVELS = ['debug', 'verbose', 'notice', 'warning'] as const;
/** PROPAGATE_AOF | PROPAGATE_REPL */
const PROPAGATE_AOF = 1;
const PROPAGATE_REPL = 2;
/** lua_gc(LUA_GCSTEP) every this many scripts (LUA_GC_CYCLE_PERIOD) */
const LUA_GC_CYCLE_PERIOD = 50;
/** Instructions between two checks of the running time (luaMaskCountHook's count). */
const HOOK_COUNT = 100000;
/**
 * The count while a timed-out script waits for a point where it may yield (out of every pcall,
 * metamethod or callback): short, so that the event loop is not kept waiting long.
 */
const HOOK_COUNT_SEEKING_YIELD = 1000;
/** The error a killed script raises (luaMaskCountHook). */
const KILLED_ERROR = 'Script killed by user with SCRIPT KILL...';
/** The registry field holding the coroutine scripts run in (reused while it lives). */
const SCRIPT_THREAD = '__amber_script_thread';
/** The registry field holding the error handler applied to a dead coroutine's error. */
const THREAD_ERROR_HANDLER = '__amber_thread_err_handler';

/** SHA1 of a script body, lower-case hex (sha1hex in eval.c). */
export function sha1hex(body: string): string {
  return createHash('sha1').update(Buffer.from(body, 'latin1')).digest('hex');
}

/** The registry field holding the error handler of every run. */
const ERROR_HANDLER = '__amber_err_handler';

/** redisLrand48's state per server (rand.c keeps one per process, shared by both engines). */
const prngState = new WeakMap<Server, number[]>();

/** The running script's context (scriptRunCtx in script.h). */
interface RunCtx {
  caller: Client;
  /** the script's SHA1 (EVAL) or the function's name (FCALL), for error replies and logs */
  name: string;
  readOnly: boolean;
  allowOom: boolean;
  /** a write command ran (SCRIPT_WRITE_DIRTY) */
  writeDirty: boolean;
  /** maxmemory was exceeded when the script started (server.script_oom) */
  oom: boolean;
  replFlags: number;
  startedAt: number;
  /** past busy-reply-threshold (SCRIPT_TIMEDOUT): logged, and yielding to the event loop */
  timedOut: boolean;
  /** SCRIPT KILL / FUNCTION KILL asked for its end (SCRIPT_KILLED) */
  killed: boolean;
  /** the count hook yielded (not the script itself) */
  hookYielded: boolean;
  /** the command is suspended (server/suspend.ts) while the coroutine yields */
  suspended: boolean;
  /** the coroutine running the script */
  co: LuaState;
  /** the main state's stack top before the run */
  base: number;
  /** the keyspace clock to restore after the run (the script's is frozen) */
  clock: () => number;
}

/** Lua's error object for a Redis error reply: {err = "CODE msg"} (luaPushErrorBuff). */
export function errorTableText(reply: string): string {
  // "-CODE msg" keeps its code; a message without one gets ERR
  let code = 'ERR';
  let msg = reply;
  if (reply.startsWith('-')) {
    const sp = reply.indexOf(' ');
    if (sp < 0) msg = reply.slice(1);
    else {
      code = reply.slice(1, sp);
      msg = reply.slice(sp + 1);
    }
  }
  msg = msg.replace(/^[\r\n]+|[\r\n]+$/g, '');
  return `${code} ${msg}`;
}

/** Reads a double's sign bit, NaN's included (a typed array store may canonicalize a NaN). */
const signView = new DataView(new ArrayBuffer(8));

/** glibc's "nan" or "-nan" for a NaN, by its sign bit. */
function nanText(d: number): string {
  signView.setFloat64(0, d);
  return signView.getUint32(0) >>> 31 ? '-nan' : 'nan';
}

/**
 * A Lua number as redis.call passes it, C's "%.17g" (not lua_tolstring's %.14g, which loses
 * precision): inf, -inf, and glibc's nan / -nan by the sign bit (0/0 is -nan on x86-64).
 */
function luaNumberArg(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d !== d) return nanText(d);
  return formatG(d, 17);
}

/**
 * The flags of a script's `#!lua flags=a,b` first line (evalExtractShebangFlags), and where its
 * code starts (the newline ending the shebang, kept for the line numbers); no shebang is
 * SCRIPT_FLAG_EVAL_COMPAT_MODE. Errors are Redis's reply texts.
 */
export function parseShebang(body: string): { flags: number; codeStart: number } | { error: string } {
  if (!body.startsWith('#!')) return { flags: SCRIPT_FLAG_EVAL_COMPAT_MODE, codeStart: 0 };
  const nl = body.indexOf('\n');
  if (nl < 0) return { error: 'ERR Invalid script shebang' };
  const parts = body.slice(0, nl).split(' ').filter((p) => p !== '');
  if (parts[0] !== '#!lua') return { error: `ERR Unexpected engine in script shebang: ${parts[0] ?? ''}` };
  let flags = 0;
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return { error: `ERR Unknown lua shebang option: ${part}` };
    for (const f of part.slice(6).split(',')) {
      if (f === '') continue;
      const def = FLAG_NAMES.find(([name]) => name === f);
      if (def === undefined) return { error: `ERR Unexpected flag in script shebang: ${f}` };
      flags |= def[1];
    }
  }
  return { flags, codeStart: nl };
}

/** The reply of a Lua number: its integer part, as C's (long long) cast on x86-64. */
function luaNumberToInteger(d: number): number | bigint {
  const t = Math.trunc(d);
  if (Number.isSafeInteger(t)) return t;
  // cvttsd2si: NaN and out-of-range values become LLONG_MIN
  if (!Number.isFinite(t) || t >= 9223372036854775808 || t < -9223372036854775808) return -9223372036854775808n;
  return BigInt(t);
}

/**
 * What the EVAL engine and the function engine share (script_lua.c and script.c in Redis 7.0.15):
 * one Lua 5.1 state with the sandbox and the `redis` API, the run of one script or function with
 * its checks and its reply, and the conversions between Lua values and RESP. Subclasses add how
 * code gets in (the script cache, function libraries) and how it is called.
 */
export abstract class LuaEngine {
  protected readonly L: LuaState;
  /** the fake client that runs redis.call's commands (lctx.lua_client, or the function engine's) */
  protected readonly client: Client;
  protected run: RunCtx | null = null;
  private gcCount = 0;
  /** redisLrand48's 48-bit state, as three 16-bit words (rand.c): one per server, as Redis has one per process */
  private readonly rx: number[];
  private readonly hook: number;
  /** the coroutine scripts run in, 0 until one is needed (see scriptThread) */
  private co: LuaState = 0;
  /** this Lua build's state has the layout LuaVM.canYieldFromHook reads */
  private readonly yieldable: boolean;
  /** a redis.call is running (luaRedisGenericCommand's recursion guard) */
  private inCall = false;
  /**
   * Pushes a read-only proxy of the table at absolute stack index `real`; its metatable answers
   * getmetatable with `exposeMt` true by a proxy of itself, else with false (set by the sandbox's
   * set-up).
   */
  protected pushReadonlyProxy!: (real: number, exposeMt: boolean) => void;
  /** the C function refusing writes to a read-only table ("Attempt to modify a readonly table") */
  protected readonlyFn!: number;
  /** the C function raising "Script attempted to access nonexistent global variable" (luaSetErrorMetatable's) */
  protected missingGlobalFn!: number;

  /**
   * @param kind 'eval': EVAL's state (the error handler is also the global
   *   `__redis__err__handler`, as in eval.c); 'function': the function engine's (function_lua.c)
   */
  protected constructor(protected readonly server: Server, protected readonly vm: LuaVM, protected readonly kind: 'eval' | 'function') {
    this.L = vm.main;
    this.client = new Client(server, 0, null, server.keyspace.dbs[0]!);
    this.client.authenticated = true;
    this.client.script = true;
    this.hook = vm.hookFn((S) => this.countHook(S));
    this.yieldable = vm.stateLayoutChecked(this.L, this.hook);
    if (!this.yieldable) server.log.warning('Lua: the WebAssembly build\'s lua_State is not laid out as Lua 5.1.5\'s: a script past busy-reply-threshold will not yield to other clients, and SCRIPT KILL / FUNCTION KILL cannot reach it.');
    let rx = prngState.get(server);
    if (rx === undefined) {
      rx = [0x330e, 0xabcd, 0x1234];
      prngState.set(server, rx);
    }
    this.rx = rx;
    this.setup();
  }

  /** Frees the Lua state (server close). */
  close(): void {
    this.vm.close();
  }

  /** used_memory_vm_eval / used_memory_lua: the Lua heap, bytes (lua_gc LUA_GCCOUNT) */
  get vmMemory(): number {
    return this.vm.gc(LUA_GCCOUNT, 0) * 1024;
  }

  /** A full garbage collection of the Lua heap (after dropping many functions or scripts). */
  collectGarbage(): void {
    this.vm.gc(LUA_GCCOLLECT, 0);
  }

  /** True while a script runs (for commands that must know, e.g. SCRIPT KILL). */
  get running(): boolean {
    return this.run !== null;
  }

  // ---------------------------------------------------------------- set-up

  private setup(): void {
    const vm = this.vm;
    const L = this.L;
    // Redis opens base, table, string, math and debug (debug is removed once the error handler
    // holds it), then its own libraries
    openRedisLibs(vm, L);
    this.registerRedisApi();
    this.replaceMath();
    vm.pushFunction(L, (S) => this.luaPcall(S));
    vm.setField(L, LUA_GLOBALSINDEX, 'pcall');
    // the error handler of every script run (7.0.15's: the error becomes a table with the source
    // and line of the Lua code that raised it, the calling Lua code when a C function did);
    // `getinfo(n)` is the call that finds the code `n` levels above the erroring one
    const handlerBody = (getinfo: (n: number) => string): string =>
      `  local i = ${getinfo(0)}\n` +
      "  if i and i.what == 'C' then\n" +
      `    i = ${getinfo(1)}\n` +
      '  end\n' +
      "  if type(err) ~= 'table' then\n" +
      "    err = {err='ERR ' .. tostring(err)}\n" +
      '  end\n' +
      '  if i then\n' +
      "    err['source'] = i.source\n" +
      "    err['line'] = i.currentline\n" +
      '  end\n' +
      '  return err\n' +
      'end\n';
    const handler =
      'local dbg = debug\n' +
      (this.kind === 'eval' ? 'function __redis__err__handler(err)\n' : 'local error_handler = function(err)\n') +
      handlerBody((n) => `dbg.getinfo(${n + 2},'nSl')`) +
      (this.kind === 'eval' ? 'return __redis__err__handler\n' : 'return error_handler\n');
    if (vm.load(L, handler, '@err_handler_def') !== 0 || vm.pcall(L, 0, 1, 0) !== 0) {
      throw new Error(`Lua: the error handler does not compile: ${vm.toStr(L, -1) ?? ''}`);
    }
    vm.setField(L, LUA_REGISTRYINDEX, ERROR_HANDLER);
    // the same for a script's coroutine that died of an error: its frames are kept, level 0 being
    // what raised (level 2 seen from a handler that lua_pcall calls on top of it)
    const threadHandler = 'local dbg = debug\nreturn function(co, err)\n' + handlerBody((n) => `dbg.getinfo(co, ${n}, 'nSl')`);
    if (vm.load(L, threadHandler, '@err_handler_def') !== 0 || vm.pcall(L, 0, 1, 0) !== 0) {
      throw new Error(`Lua: the coroutine error handler does not compile: ${vm.toStr(L, -1) ?? ''}`);
    }
    vm.setField(L, LUA_REGISTRYINDEX, THREAD_ERROR_HANDLER);
    this.wrapCoroutineLib();
    // what Redis never loads or removes after set-up
    for (const name of ['print', 'dofile', 'loadfile', 'module', 'require', 'package', 'io', 'os', 'debug', 'getfenv', 'setfenv', 'newproxy']) {
      vm.pushNil(L);
      vm.setField(L, LUA_GLOBALSINDEX, name);
    }
    this.protectGlobals();
  }

  /**
   * Scripts run in a coroutine here, where Redis runs them on the main state with lua_pcall: seen
   * from the script, `coroutine.running()` still answers nil and `coroutine.yield()` still raises
   * "attempt to yield across metamethod/C-call boundary" at its top level. Coroutines the script
   * creates itself behave as in Lua.
   */
  private wrapCoroutineLib(): void {
    const vm = this.vm;
    const L = this.L;
    vm.getField(L, LUA_GLOBALSINDEX, 'coroutine');
    vm.pushFunction(L, (S) => {
      if (S === this.run?.co) return vm.error(S, 'attempt to yield across metamethod/C-call boundary');
      return vm.yieldValues(S, vm.top(S));
    });
    vm.setField(L, -2, 'yield');
    vm.pushFunction(L, (S) => {
      // luaB_corunning: the main thread is no coroutine
      if (vm.pushThread(S) || S === this.run?.co) {
        vm.pop(S, 1);
        vm.pushNil(S);
      }
      return 1;
    });
    vm.setField(L, -2, 'running');
    vm.pop(L, 1);
  }

  /** Defines the `redis` table (luaRegisterRedisAPI and scriptingInit's additions). */
  private registerRedisApi(): void {
    const vm = this.vm;
    const L = this.L;
    vm.newTable(L);
    const fns: Array<[string, (S: LuaState) => number]> = [
      ['call', (S) => this.redisCall(S, true)],
      ['pcall', (S) => this.redisCall(S, false)],
      ['log', (S) => this.redisLog(S)],
      ['setresp', (S) => this.redisSetResp(S)],
      ['sha1hex', (S) => this.redisSha1hex(S)],
      ['error_reply', (S) => this.redisErrorReply(S)],
      ['status_reply', (S) => this.redisStatusReply(S)],
      ['set_repl', (S) => this.redisSetRepl(S)],
      ['acl_check_cmd', (S) => this.redisAclCheckCmd(S)],
      ['breakpoint', (S) => {
        vm.pushBoolean(S, false);
        return 1;
      }],
      ['debug', () => 0],
      ['replicate_commands', (S) => {
        vm.pushBoolean(S, true);
        return 1;
      }],
    ];
    for (const [name, f] of fns) {
      // the debugger and the pre-7.0 replication switch are EVAL's only (scriptingInit in eval.c)
      if (this.kind === 'function' && (name === 'breakpoint' || name === 'debug' || name === 'replicate_commands')) continue;
      vm.pushFunction(L, f);
      vm.setField(L, -2, name);
    }
    const nums: Array<[string, number]> = [
      ...LOG_AND_VERSION_NUMBERS,
      ['REPL_NONE', 0], ['REPL_AOF', PROPAGATE_AOF], ['REPL_SLAVE', PROPAGATE_REPL], ['REPL_REPLICA', PROPAGATE_REPL],
      ['REPL_ALL', PROPAGATE_AOF | PROPAGATE_REPL],
    ];
    for (const [name, n] of nums) {
      vm.pushNumber(L, n);
      vm.setField(L, -2, name);
    }
    vm.pushString(L, REDIS_VERSION);
    vm.setField(L, -2, 'REDIS_VERSION');
    vm.setField(L, LUA_GLOBALSINDEX, 'redis');
  }

  /** math.random / math.randomseed on redisLrand48 (the same sequence on every platform). */
  private replaceMath(): void {
    const vm = this.vm;
    const L = this.L;
    vm.getField(L, LUA_GLOBALSINDEX, 'math');
    vm.pushFunction(L, (S) => {
      if (this.run === null) return vm.errorWhere(S, 'math.random can only be called inside a script invocation');
      // the `%` avoids r == 1 (Lua's own math_random, with rand() replaced)
      const r = (this.lrand48() % 2147483647) / 2147483647;
      switch (vm.top(S)) {
        case 0:
          vm.pushNumber(S, r);
          break;
        case 1: {
          const u = vm.checkInteger(S, 1);
          if (!(1 <= u)) return vm.argError(S, 1, 'interval is empty');
          vm.pushNumber(S, Math.floor(r * u) + 1);
          break;
        }
        case 2: {
          const l = vm.checkInteger(S, 1);
          const u = vm.checkInteger(S, 2);
          if (!(l <= u)) return vm.argError(S, 2, 'interval is empty');
          vm.pushNumber(S, Math.floor(r * (u - l + 1)) + l);
          break;
        }
        default:
          return vm.errorWhere(S, 'wrong number of arguments');
      }
      return 1;
    });
    vm.setField(L, -2, 'random');
    vm.pushFunction(L, (S) => {
      if (this.run === null) return vm.errorWhere(S, 'math.randomseed can only be called inside a script invocation');
      this.srand48(vm.checkInteger(S, 1));
      return 0;
    });
    vm.setField(L, -2, 'randomseed');
    vm.pop(L, 1);
  }

  /** redisLrand48: the next 31-bit value of the 48-bit LCG (a = 0x5DEECE66D, c = 0xB). */
  private lrand48(): number {
    const x = this.rx;
    const X = (BigInt(x[2]!) << 32n) | (BigInt(x[1]!) << 16n) | BigInt(x[0]!);
    const n = (X * 0x5deece66dn + 0xbn) & 0xffffffffffffn;
    x[0] = Number(n & 0xffffn);
    x[1] = Number((n >> 16n) & 0xffffn);
    x[2] = Number(n >> 32n);
    return Number(n >> 17n);
  }

  /** redisSrand48(seed): the state becomes seed's 32 bits above 0x330E. */
  private srand48(seed: number): void {
    this.rx[0] = 0x330e;
    this.rx[1] = seed & 0xffff;
    this.rx[2] = (seed >>> 16) & 0xffff;
  }

  /**
   * Makes the globals and the library tables read-only (see the module comment): the state's
   * globals become a proxy, `_G` names it, and the functions that bypass metatables are wrapped.
   * The metatables involved answer getmetatable with a read-only proxy of themselves, so that a
   * script cannot lift the protection by editing them.
   */
  private protectGlobals(): void {
    const vm = this.vm;
    const L = this.L;
    const R = LUA_REGISTRYINDEX;
    // registry.__amber_real: proxy -> the table it protects
    vm.newTable(L);
    vm.setField(L, R, '__amber_real');
    const readonly = vm.fn((S) => vm.errorWhere(S, 'Attempt to modify a readonly table'));
    this.readonlyFn = readonly;
    /**
     * Pushes a read-only proxy of the table at absolute index `real`; its metatable answers
     * getmetatable with `exposeMt` true by a proxy of itself, else with false.
     */
    const proxyOf = (real: number, exposeMt: boolean): void => {
      vm.newTable(L); // the proxy
      vm.newTable(L); // its metatable
      const mt = vm.top(L);
      vm.pushValue(L, real);
      vm.setField(L, mt, '__index');
      vm.pushFunction(L, readonly);
      vm.setField(L, mt, '__newindex');
      if (exposeMt) proxyOf(mt, false);
      else vm.pushBoolean(L, false);
      vm.setField(L, mt, '__metatable');
      vm.setMetatable(L, -2);
      vm.getField(L, R, '__amber_real');
      vm.pushValue(L, -2);
      vm.pushValue(L, real);
      vm.rawSet(L, -3);
      vm.pop(L, 1);
    };
    this.pushReadonlyProxy = proxyOf;
    // the library tables, each replaced in the real globals by its proxy
    for (const lib of ['string', 'math', 'table', 'coroutine', 'redis', 'cjson', 'bit', 'struct', 'cmsgpack']) {
      vm.getField(L, LUA_GLOBALSINDEX, lib);
      if (vm.type(L, -1) === LUA_TTABLE) {
        proxyOf(vm.top(L), true);
        vm.setField(L, LUA_GLOBALSINDEX, lib);
      }
      vm.pop(L, 1);
    }
    // the wrappers of the functions that go around a proxy's metatable
    const realOf = (S: LuaState, idx: number): void => {
      vm.getField(S, R, '__amber_real');
      vm.pushValue(S, idx);
      vm.rawGet(S, -2);
      if (vm.type(S, -1) !== LUA_TNIL) {
        vm.replace(S, idx);
        vm.pop(S, 1);
      } else vm.pop(S, 2);
    };
    const isProtected = (S: LuaState, idx: number): boolean => {
      vm.getField(S, R, '__amber_real');
      vm.pushValue(S, idx);
      vm.rawGet(S, -2);
      const p = vm.type(S, -1) !== LUA_TNIL;
      vm.pop(S, 2);
      return p || this.isRealGlobals(S, idx);
    };
    const wrap = (name: string, f: (S: LuaState, original: () => number) => number): void => {
      vm.getField(L, LUA_GLOBALSINDEX, name);
      vm.setField(L, R, `__amber_orig_${name}`);
      vm.pushFunction(L, (S) => f(S, () => {
        // the original, on the (possibly rewritten) arguments, with all its results
        const n = vm.top(S);
        vm.getField(S, R, `__amber_orig_${name}`);
        vm.insert(S, 1);
        vm.call(S, n, -1);
        return vm.top(S);
      }));
      vm.setField(L, LUA_GLOBALSINDEX, name);
    };
    wrap('rawset', (S, orig) => {
      vm.checkType(S, 1, LUA_TTABLE);
      if (isProtected(S, 1)) return vm.error(S, 'Attempt to modify a readonly table');
      return orig();
    });
    // the strings' shared metatable, seen through a proxy by getmetatable (its __index is the
    // string library, which a script must not be able to swap for every later script)
    vm.pushString(L, '');
    vm.getMetatable(L, -1);
    const strMt = vm.top(L);
    vm.pushValue(L, strMt);
    vm.setField(L, R, '__amber_string_mt');
    proxyOf(strMt, false);
    vm.setField(L, R, '__amber_string_mt_proxy');
    vm.pop(L, 2);
    wrap('getmetatable', (S, orig) => {
      const n = orig();
      if (n >= 1 && vm.type(S, 1) === LUA_TTABLE) {
        vm.getField(S, R, '__amber_string_mt');
        const isStringMt = vm.toPointer(S, -1) === vm.toPointer(S, 1);
        vm.pop(S, 1);
        if (isStringMt) {
          vm.getField(S, R, '__amber_string_mt_proxy');
          vm.replace(S, 1);
        }
      }
      return n;
    });
    // tostring of a NaN: glibc prints the sign (0/0 is -nan on x86-64), this libc does not
    wrap('tostring', (S, orig) => {
      if (vm.type(S, 1) === LUA_TNUMBER) {
        const d = vm.toNumber(S, 1);
        if (d !== d) {
          vm.pushString(S, luaNumberArg(d));
          return 1;
        }
      }
      return orig();
    });
    wrap('setmetatable', (S, orig) => {
      if (vm.type(S, 1) === LUA_TTABLE && isProtected(S, 1)) return vm.error(S, 'Attempt to modify a readonly table');
      return orig();
    });
    for (const name of ['rawget', 'next', 'ipairs']) {
      wrap(name, (S, orig) => {
        if (vm.type(S, 1) === LUA_TTABLE) realOf(S, 1);
        return orig();
      });
    }
    // pairs(t) is next, t, nil: with the real table, through the wrapped next
    vm.pushFunction(L, (S) => {
      vm.checkType(S, 1, LUA_TTABLE);
      realOf(S, 1);
      vm.getField(S, LUA_GLOBALSINDEX, 'next');
      vm.pushValue(S, 1);
      vm.pushNil(S);
      return 3;
    });
    vm.setField(L, LUA_GLOBALSINDEX, 'pairs');
    // the real globals: a missing name is an error, a new one refused
    vm.pushValue(L, LUA_GLOBALSINDEX);
    vm.setField(L, R, '__amber_globals');
    vm.newTable(L);
    const gmt = vm.top(L);
    const missing = vm.fn((S) => {
      const name = vm.toStr(S, 2);
      return vm.errorWhere(S, `Script attempted to access nonexistent global variable '${name ?? '?'}'`);
    });
    this.missingGlobalFn = missing;
    vm.pushFunction(L, missing);
    vm.setField(L, gmt, '__index');
    vm.pushFunction(L, readonly);
    vm.setField(L, gmt, '__newindex');
    proxyOf(gmt, false);
    vm.setField(L, gmt, '__metatable');
    vm.setMetatable(L, LUA_GLOBALSINDEX);
    // the globals proxy: reads go to the real table (a plain table lookup, no call), writes fail
    vm.pushValue(L, LUA_GLOBALSINDEX);
    proxyOf(vm.top(L), true);
    vm.remove(L, -2);
    // _G names the proxy (rawset: the real table's metatable refuses new names)
    vm.pushValue(L, LUA_GLOBALSINDEX);
    vm.pushString(L, '_G');
    vm.pushValue(L, -3);
    vm.rawSet(L, -3);
    vm.pop(L, 1);
    // the state's globals become the proxy: scripts, loadstring'd chunks and coroutines see it
    vm.replace(L, LUA_GLOBALSINDEX);
  }

  /** True when the value at `idx` is the real globals table (reachable through its proxy's metatable). */
  private isRealGlobals(S: LuaState, idx: number): boolean {
    const vm = this.vm;
    const p = vm.toPointer(S, idx);
    vm.getField(S, LUA_REGISTRYINDEX, '__amber_globals');
    const hit = vm.toPointer(S, -1) === p;
    vm.pop(S, 1);
    return hit;
  }

  // ---------------------------------------------------------------- running a script
  /**
   * processCommand's refusals of a script command by its shebang flags (scriptFlagsToCmdFlags): a
   * script that may write and does not allow OOM is a deny-oom command (OOM), one that may write
   * a write command (MISCONF). Replies and returns true when refused; nothing is compiled or
   * cached then, as in Redis.
   */
  refusedByFlags(c: Client, flags: number): boolean {
    const server = this.server;
    if (!(flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
      const evictor = server.evictor;
      if (evictor.maxmemory !== 0 && evictor.perform() === EVICT_FAIL) {
        c.addError("OOM command not allowed when used memory > 'maxmemory'.");
        return true;
      }
    }
    if (!(flags & SCRIPT_FLAG_NO_WRITES) && server.writeError !== null) {
      c.addError(server.writeError);
      return true;
    }
    return false;
  }


  /**
   * Runs a script or function for client `c` and replies to it (scriptPrepareForRun's checks,
   * luaCallFunction, scriptResetRun). `push` pushes the Lua function to call and its arguments
   * and returns how many arguments it pushed. `name`: the script's SHA1 or the function's name,
   * as errors and logs show it; `flags`: its SCRIPT_FLAG_* flags; `ro`: EVAL_RO, EVALSHA_RO or
   * FCALL_RO.
   */
  protected execute(c: Client, name: string, flags: number, ro: boolean, push: () => number): void {
    const server = this.server;
    const compat = (flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) !== 0;
    const evictor = server.evictor;
    const oom = evictor.maxmemory !== 0 && evictor.perform() === EVICT_FAIL;
    // scriptPrepareForRun: a script that may write is refused by the *_RO commands
    if (!compat && !(flags & SCRIPT_FLAG_NO_WRITES) && ro) {
      c.addError('ERR Can not execute a script with write flag using *_ro command.');
      return;
    }
    const sc = this.client;
    sc.db = c.db;
    sc.resp = 2;
    // the keyspace's clock stands still for the script (scriptTimeSnapshot: keys do not expire
    // half-way through it)
    const ks = server.keyspace;
    const clock = ks.now;
    const frozen = clock();
    const vm = this.vm;
    const L = this.L;
    const base = vm.top(L);
    const co = this.scriptThread();
    this.run = {
      caller: c, name,
      readOnly: ro || (!compat && (flags & SCRIPT_FLAG_NO_WRITES) !== 0),
      allowOom: !compat && (flags & SCRIPT_FLAG_ALLOW_OOM) !== 0,
      writeDirty: false, oom, replFlags: PROPAGATE_AOF | PROPAGATE_REPL,
      startedAt: performance.now(), timedOut: false, killed: false, hookYielded: false, suspended: false,
      co, base, clock,
    };
    ks.now = () => frozen;
    beginDenyBlocking();
    server.scriptCaller = c;
    // the script command's own argv is never propagated, only its commands' effects (scriptResetRun)
    server.effects.prevent();
    let nargs: number;
    try {
      nargs = push();
      vm.xmove(L, co, nargs + 1);
      if (server.config.get<number>('busy-reply-threshold') > 0) vm.setHook(co, this.hook, LUA_MASKCOUNT, HOOK_COUNT);
    } catch (e) {
      this.endRun();
      throw e;
    }
    this.step(nargs);
  }

  /**
   * The coroutine scripts run in, created once and reused while it lives (a script that raised an
   * error leaves it dead). Kept in the registry.
   */
  private scriptThread(): LuaState {
    const vm = this.vm;
    const L = this.L;
    if (this.co !== 0 && vm.status(this.co) === 0 && vm.top(this.co) === 0) return this.co;
    this.co = vm.newThread(L);
    vm.setField(L, LUA_REGISTRYINDEX, SCRIPT_THREAD);
    return this.co;
  }

  /**
   * Runs the script's coroutine until it ends or its count hook yields (past busy-reply-threshold).
   * On a yield the caller's command is suspended (server/suspend.ts) and the run goes on in a later
   * event-loop turn; on its end the script replies and the suspended command completes.
   */
  private step(nargs: number): void {
    const run = this.run!;
    const vm = this.vm;
    let status: number;
    try {
      status = vm.resume(run.co, nargs);
    } catch (e) {
      this.endRun();
      this.co = 0;
      throw e;
    }
    if (status === LUA_YIELD && run.hookYielded) {
      run.hookYielded = false;
      if (!run.suspended) {
        run.suspended = true;
        const self = this;
        suspendCommand(this.server, run.caller, {
          isEval: this.kind === 'eval', name: run.name, argv: run.caller.argv, startedAt: run.startedAt,
          get writeDirty(): boolean {
            return run.writeDirty;
          },
          kill(): void {
            run.killed = true;
            // at the next instruction count: the script raises the error there (countHook)
            vm.setHook(run.co, self.hook, LUA_MASKCOUNT, 1);
          },
        });
      }
      setImmediate(() => this.stepSuspended());
      return;
    }
    const suspended = run.suspended;
    try {
      this.finishRun(status);
    } finally {
      this.endRun();
    }
    if (suspended) completeSuspended(this.server);
  }

  /** {@link step} of a suspended run, from the event loop: a failure of the VM ends it with an error. */
  private stepSuspended(): void {
    const caller = this.run?.caller;
    if (this.server.closing) {
      // SHUTDOWN NOSAVE: the script is dropped where it stands (the VM may be closed already)
      this.co = 0;
      this.endRun(false);
      this.server.suspension = null;
      return;
    }
    try {
      this.step(0);
    } catch (e) {
      const err = e as Error;
      this.server.log.warning(`Internal error resuming a busy script for client id=${caller?.id ?? '?'}: ${err.stack ?? err.message}`);
      caller?.addError(`ERR internal error while running the script: ${err.message}`);
      completeSuspended(this.server);
    }
  }

  /** Replies to the caller with the coroutine's result or error, `status` being lua_resume's. */
  private finishRun(status: number): void {
    const run = this.run!;
    const vm = this.vm;
    const L = this.L;
    const co = run.co;
    vm.setHook(co, 0, 0, 0);
    if (++this.gcCount === LUA_GC_CYCLE_PERIOD) {
      vm.gc(LUA_GCSTEP, LUA_GC_CYCLE_PERIOD);
      this.gcCount = 0;
    }
    if (status === 0) {
      // the first result (lua_pcall with nresults 1)
      if (vm.top(co) === 0) vm.pushNil(L);
      else {
        vm.setTop(co, 1);
        vm.xmove(co, L, 1);
      }
      this.reply(run.caller, L);
      return;
    }
    if (status === LUA_YIELD) {
      // only the count hook yields the script's own coroutine (coroutine.yield refuses to): a
      // yield from anywhere else leaves the coroutine unusable
      vm.setTop(co, 0);
      this.co = 0;
      vm.pushString(L, 'attempt to yield across metamethod/C-call boundary');
    } else {
      // the error handler's table, made from the dead coroutine's frames
      this.co = 0;
      vm.getField(L, LUA_REGISTRYINDEX, THREAD_ERROR_HANDLER);
      vm.getField(L, LUA_REGISTRYINDEX, SCRIPT_THREAD);
      vm.xmove(co, L, 1);
      if (vm.pcall(L, 2, 1, 0) !== 0) {
        // the handler itself failed (out of memory): reported as a plain message
        if (!vm.isString(L, -1)) {
          vm.pop(L, 1);
          vm.pushString(L, 'execution failure');
        }
      }
    }
    this.replyError(run.caller);
  }

  /**
   * scriptResetRun: the state every run leaves behind, whatever its end. `vmAlive` false: the
   * VM may be closed already (server shutdown) and is not touched.
   */
  private endRun(vmAlive = true): void {
    const run = this.run;
    if (run === null) return;
    const server = this.server;
    if (vmAlive) this.vm.setTop(this.L, run.base);
    endDenyBlocking();
    server.scriptCaller = null;
    server.keyspace.now = run.clock;
    this.run = null;
    this.client.db = server.keyspace.dbs[0]!;
  }

  /** Pushes a Lua array of strings (luaCreateArray). */
  protected pushArray(items: string[]): void {
    const vm = this.vm;
    const L = this.L;
    vm.newTable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      vm.pushString(L, items[i]!);
      vm.rawSetI(L, -2, i + 1);
    }
  }

  /** KEYS / ARGV as a global array of strings (luaCreateArray, set past the read-only guard). */
  protected setGlobalArray(name: string, items: string[]): void {
    const vm = this.vm;
    const L = this.L;
    vm.getField(L, LUA_REGISTRYINDEX, '__amber_globals');
    vm.pushString(L, name);
    this.pushArray(items);
    vm.rawSet(L, -3);
    vm.pop(L, 1);
  }

  /**
   * The count hook (luaMaskCountHook, scriptInterrupt): once the script runs past
   * busy-reply-threshold it is logged and then yields to the event loop at every check, so that
   * other clients are answered (-BUSY but for allow_busy commands) until it ends; a killed script
   * raises Redis's error, at every line from then on so that pcall cannot hold it.
   */
  private countHook(S: LuaState): void {
    const run = this.run;
    if (run === null) return;
    const vm = this.vm;
    if (run.killed) {
      this.server.log.warning('Lua script killed by user with SCRIPT KILL.');
      vm.setHook(S, this.hook, LUA_MASKLINE, 0);
      this.pushErrorTable(S, KILLED_ERROR, false);
      vm.raise(S);
      return;
    }
    if (!run.timedOut) {
      const elapsed = performance.now() - run.startedAt;
      if (elapsed < this.server.config.get<number>('busy-reply-threshold')) return;
      run.timedOut = true;
      const kill = this.kind === 'eval' ? 'SCRIPT KILL' : 'FUNCTION KILL';
      this.server.log.warning(`Slow script detected: still in execution after ${Math.round(elapsed)} milliseconds. You can try killing the script using the ${kill} command. Script name is: ${run.name}.`);
      if (!this.canSuspend(run)) {
        this.server.log.warning('This script cannot yield to other clients (it runs while a file loads, or this Lua build is not the expected one): Amber will answer when it ends.');
      }
    }
    if (!this.canSuspend(run)) return;
    // a coroutine of the script's own, or a point inside a pcall, a metamethod or a callback,
    // cannot yield: look again soon
    if (S !== run.co || !vm.canYieldFromHook(S)) {
      // a varying count: a fixed one can keep landing on the same instructions of a loop
      vm.setHook(S, this.hook, LUA_MASKCOUNT, 1 + Math.floor(Math.random() * HOOK_COUNT_SEEKING_YIELD));
      return;
    }
    vm.setHook(S, this.hook, LUA_MASKCOUNT, HOOK_COUNT);
    run.hookYielded = true;
    vm.yieldFromHook(S);
  }

  /**
   * Whether the run may suspend its command: called by a client connection (through
   * processCommand), not while a file loads, and with a Lua build whose state layout was checked.
   */
  private canSuspend(run: RunCtx): boolean {
    return this.yieldable && run.caller.socket !== null && !this.server.keyspace.loading;
  }

  /** The reply of a script that raised an error (luaCallFunction's error branch). */
  private replyError(c: Client): void {
    const vm = this.vm;
    const L = this.L;
    const name = this.run!.name;
    if (vm.type(L, -1) !== LUA_TTABLE) {
      const msg = vm.isString(L, -1) ? vm.toStr(L, -1)! : 'execution failure';
      c.addError(`ERR Error running script ${name}, ${msg.slice(0, 100)}`);
      return;
    }
    const info = this.errorInfo(L);
    let msg = info.msg ?? '';
    if (info.line !== null && info.source !== null) msg += ` script: ${name}, on ${info.source}:${info.line}.`;
    this.addErrorText(c, msg, info.ignoreStats);
  }

  /** luaExtractErrorInformation of the error table on top of the stack. */
  private errorInfo(L: LuaState): { msg: string | null; source: string | null; line: string | null; ignoreStats: boolean } {
    const vm = this.vm;
    const field = (name: string): string | null => {
      vm.getField(L, -1, name);
      const v = vm.isString(L, -1) ? vm.toStr(L, -1) : null;
      vm.pop(L, 1);
      return v;
    };
    vm.getField(L, -1, 'ignore_error_stats_update');
    const ignoreStats = vm.type(L, -1) === LUA_TBOOLEAN && vm.toBoolean(L, -1);
    vm.pop(L, 1);
    return { msg: field('err'), source: field('source'), line: field('line'), ignoreStats };
  }

  /**
   * An error reply of a script's own making ("CODE msg"): a message that already counted in the
   * error stats when the command failed inside the script is not counted again.
   */
  private addErrorText(c: Client, msg: string, ignoreStats: boolean): void {
    c.addError(msg);
    if (ignoreStats) {
      // ERR_REPLY_FLAG_NO_STATS_UPDATE: still a failed call of the script command
      c.lastError = null;
      if (c.cmd !== null) c.cmd.stats.failedCalls++;
    }
  }

  // ---------------------------------------------------------------- Lua -> RESP

  /** Replies to `c` with the value on top of the stack (luaReplyToRedisReply), consuming it. */
  private reply(c: Client, L: LuaState): void {
    const vm = this.vm;
    if (!vm.checkStack(L, 4)) {
      c.addError('ERR reached lua stack limit');
      vm.pop(L, 1);
      return;
    }
    const t = vm.type(L, -1);
    switch (t) {
      case LUA_TSTRING:
        c.addBulk(vm.toStr(L, -1)!);
        break;
      case LUA_TBOOLEAN:
        if (this.client.resp === 2) {
          if (vm.toBoolean(L, -1)) c.addInt(1);
          else c.addNull();
        } else c.addBool(vm.toBoolean(L, -1));
        break;
      case LUA_TNUMBER:
        c.addInt(luaNumberToInteger(vm.toNumber(L, -1)));
        break;
      case LUA_TTABLE:
        this.replyTable(c, L);
        return;
      default:
        c.addNull();
    }
    vm.pop(L, 1);
  }

  /** {@link reply} of a table: error, status, double, big number, verbatim, map, set or array. */
  private replyTable(c: Client, L: LuaState): void {
    const vm = this.vm;
    const raw = (name: string): number => {
      vm.pushString(L, name);
      vm.rawGet(L, -2);
      return vm.type(L, -1);
    };
    if (raw('err') === LUA_TSTRING) {
      vm.pop(L, 1);
      const info = this.errorInfo(L);
      this.addErrorText(c, info.msg ?? '', info.ignoreStats);
      vm.pop(L, 1);
      return;
    }
    vm.pop(L, 1);
    if (raw('ok') === LUA_TSTRING) {
      // sdsnew(lua_tostring): the status stops at a NUL byte
      let ok = vm.toStr(L, -1)!;
      const nul = ok.indexOf('\0');
      if (nul >= 0) ok = ok.slice(0, nul);
      c.addSimple(ok.replace(/[\r\n]/g, ' '));
      vm.pop(L, 2);
      return;
    }
    vm.pop(L, 1);
    if (raw('double') === LUA_TNUMBER) {
      const d = vm.toNumber(L, -1);
      if (d !== d) {
        // addReplyDouble's %.17g: the sign of a NaN shows
        const t = nanText(d);
        if (c.resp === 3) c.addRaw(`,${t}\r\n`);
        else c.addBulk(t);
      } else c.addDouble(d);
      vm.pop(L, 2);
      return;
    }
    vm.pop(L, 1);
    if (raw('big_number') === LUA_TSTRING) {
      const big = vm.toStr(L, -1)!.replace(/[\r\n]/g, ' ');
      if (c.resp === 3) c.addRaw(`(${big}\r\n`);
      else c.addBulk(big);
      vm.pop(L, 2);
      return;
    }
    vm.pop(L, 1);
    if (raw('verbatim_string') === LUA_TTABLE) {
      vm.pushString(L, 'format');
      vm.rawGet(L, -2);
      if (vm.type(L, -1) === LUA_TSTRING) {
        const format = vm.toStr(L, -1)!;
        vm.pushString(L, 'string');
        vm.rawGet(L, -3);
        if (vm.type(L, -1) === LUA_TSTRING) {
          c.addVerbatim(vm.toStr(L, -1)!, format.slice(0, 3).padEnd(3, '\0'));
          vm.pop(L, 4);
          return;
        }
        vm.pop(L, 1);
      }
      vm.pop(L, 1);
    }
    vm.pop(L, 1);
    if (raw('map') === LUA_TTABLE) {
      const out = c.out;
      c.out = '';
      let n = 0;
      vm.pushNil(L);
      while (vm.next(L, -2)) {
        vm.pushValue(L, -2);
        this.reply(c, L); // key
        this.reply(c, L); // value
        n++;
      }
      const body = c.out;
      c.out = out;
      c.addMapLen(n);
      c.out += body;
      vm.pop(L, 2);
      return;
    }
    vm.pop(L, 1);
    if (raw('set') === LUA_TTABLE) {
      const out = c.out;
      c.out = '';
      let n = 0;
      vm.pushNil(L);
      while (vm.next(L, -2)) {
        vm.pop(L, 1);
        vm.pushValue(L, -1);
        this.reply(c, L);
        n++;
      }
      const body = c.out;
      c.out = out;
      c.addSetLen(n);
      c.out += body;
      vm.pop(L, 2);
      return;
    }
    vm.pop(L, 1);
    // an array, up to the first nil
    const out = c.out;
    c.out = '';
    let n = 0;
    for (let j = 1; ; j++) {
      vm.pushNumber(L, j);
      vm.rawGet(L, -2);
      if (vm.type(L, -1) === LUA_TNIL) {
        vm.pop(L, 1);
        break;
      }
      this.reply(c, L);
      n++;
    }
    const body = c.out;
    c.out = out;
    c.addArrayLen(n);
    c.out += body;
    vm.pop(L, 1);
  }

  // ---------------------------------------------------------------- redis.* functions

  /** Raises (or, for pcall, returns) a Redis error as Lua's error table (luaPushError). */
  protected pushErrorTable(S: LuaState, msg: string, ignoreStats: boolean): void {
    const vm = this.vm;
    vm.newTable(S);
    vm.pushString(S, errorTableText(msg));
    vm.setField(S, -2, 'err');
    if (ignoreStats) {
      vm.pushBoolean(S, true);
      vm.setField(S, -2, 'ignore_error_stats_update');
    }
  }

  /** redis.call / redis.pcall (luaRedisGenericCommand). */
  private redisCall(S: LuaState, raise: boolean): number {
    const vm = this.vm;
    const run = this.run;
    if (run === null) {
      this.pushErrorTable(S, 'redis.call/pcall can only be called inside a script invocation', false);
      return vm.raise(S);
    }
    const argc = vm.top(S);
    if (argc === 0) {
      this.pushErrorTable(S, 'Please specify at least one argument for this redis lib call', false);
      return raise ? vm.raise(S) : 1;
    }
    const argv: string[] = new Array<string>(argc);
    let bad = false;
    for (let j = 0; j < argc; j++) {
      const t = vm.type(S, j + 1);
      if (t === LUA_TNUMBER) {
        argv[j] = luaNumberArg(vm.toNumber(S, j + 1));
      } else if (t === LUA_TSTRING) {
        argv[j] = vm.toStr(S, j + 1)!;
      } else {
        bad = true;
        break;
      }
    }
    vm.pop(S, argc);
    if (bad) {
      this.pushErrorTable(S, 'Lua redis lib command arguments must be strings or integers', false);
      return raise ? vm.raise(S) : 1;
    }
    if (this.inCall) {
      const warning = 'luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?';
      this.server.log.warning(warning);
      this.pushErrorTable(S, warning, false);
      return 1;
    }
    this.inCall = true;
    let reply = '';
    let err: string | null;
    // nothing that raises a Lua error (a longjmp, thrown through JS) may run inside this try
    try {
      err = this.scriptCall(run, argv);
      if (err === null) {
        reply = this.client.out;
        this.client.out = '';
      }
    } catch (e) {
      // dispatch's call() catches handler bugs; a throw here is a bug of this layer, reported as
      // the command's error rather than let through the VM
      this.server.log.warning(`Internal error running a command from a script: ${(e as Error).stack ?? String(e)}`);
      err = `ERR internal error running a command from a script: ${(e as Error).message}`;
    } finally {
      this.inCall = false;
    }
    if (err !== null) {
      // a command refused before it ran counts in the error stats here, once (not again when the
      // script's reply carries it)
      this.server.countError(errorTableText(err));
      this.pushErrorTable(S, err, true);
      return raise ? vm.raise(S) : 1;
    }
    if (!vm.checkStack(S, 8)) {
      return vm.error(S, 'lua stack limit reach when parsing redis.call reply');
    }
    const isError = reply.charCodeAt(0) === 45; // '-'
    new RespToLua(vm, S, reply).value();
    if (isError) {
      // the error table of a failed command: its stats were counted when it failed
      vm.pushBoolean(S, true);
      vm.setField(S, -2, 'ignore_error_stats_update');
      if (raise) return vm.raise(S);
    }
    return 1;
  }

  /**
   * scriptCall: the checks a command called from a script passes, then dispatch's call() on the
   * script client. Returns the error text (without '-') when refused; the reply is in the script
   * client's output.
   */
  private scriptCall(run: RunCtx, argv: string[]): string | null {
    const server = this.server;
    const sc = this.client;
    const { spec } = lookupCommand(server, argv);
    if (spec === undefined) return 'Unknown Redis command called from script';
    if ((spec.arity > 0 && spec.arity !== argv.length) || argv.length < -spec.arity) {
      spec.stats.rejectedCalls++;
      return 'Wrong number of args calling Redis command from script';
    }
    // the script runs with its caller's permissions (scriptCall sets c->user)
    sc.user = run.caller.user;
    const refused = this.refusal(run, spec, argv);
    if (refused !== null) {
      spec.stats.rejectedCalls++;
      return refused;
    }
    if (spec.isWrite) run.writeDirty = true;
    sc.argv = argv;
    sc.cmd = spec;
    sc.lastCmd = spec;
    if ((run.replFlags & PROPAGATE_AOF) === 0) server.effects.discarding(() => call(server, sc, spec));
    else call(server, sc, spec);
    sc.argv = [];
    return null;
  }

  /**
   * Why a command called from the running script is refused before it runs (scriptCall's checks
   * after the arity: noscript, ACL, read-only script, disk errors, OOM), or null.
   */
  private refusal(run: RunCtx, spec: CommandSpec, argv: readonly string[]): string | null {
    const server = this.server;
    if (!server.scriptDisableDenyScript && spec.flags.has('noscript')) return 'This Redis command is not allowed from script';
    const denied = this.aclDenial(run, spec, argv);
    if (denied !== null) return denied;
    // a read-only script refuses may-replicate commands (PUBLISH...) too: what a CLIENT PAUSE
    // WRITE must hold
    if (run.readOnly && (spec.isWrite || MAY_REPLICATE.has(spec.fullName))) {
      return 'Write commands are not allowed from read-only scripts.';
    }
    // the reason writes are refused, with its code: MISCONF (disk errors, stop-writes-on-bgsave-error)
    if (spec.isWrite && server.writeError !== null) return `-${server.writeError}`;
    if (!run.allowOom && server.evictor.maxmemory !== 0 && !run.writeDirty && run.oom && spec.denyOom) {
      return "-OOM command not allowed when used memory > 'maxmemory'.";
    }
    return null;
  }

  /**
   * scriptVerifyACL: the caller's user may run the command line, else an ACL LOG entry (context
   * lua, the caller's client info) and the script's error text.
   */
  private aclDenial(run: RunCtx, spec: CommandSpec, argv: readonly string[]): string | null {
    const acl = this.server.acl;
    const out: AclDenial = { reason: 0, pos: 0 };
    const r = acl.check(this.client.user, spec, argv, out);
    if (r === ACL_OK) return null;
    acl.logDenial(this.client, spec, argv, out, 'lua', run.caller);
    if (r === ACL_DENIED_CMD) return "The user executing the script can't run this command or subcommand";
    if (r === ACL_DENIED_KEY) return "The user executing the script can't access at least one of the keys mentioned in the command arguments";
    return "The user executing the script can't publish to the channel mentioned in the command";
  }

  /** Amber's pcall: an error table from redis.call becomes its message (luaRedisPcall). */
  private luaPcall(S: LuaState): number {
    const vm = this.vm;
    const argc = vm.top(S);
    vm.pushBoolean(S, true);
    vm.insert(S, 1);
    if (vm.pcall(S, argc - 1, -1, 0) !== 0) {
      vm.remove(S, 1);
      if (vm.type(S, -1) === LUA_TTABLE) {
        vm.getField(S, -1, 'err');
        if (vm.isString(S, -1)) vm.replace(S, -2);
        else vm.pop(S, 1);
      }
      vm.pushBoolean(S, false);
      vm.insert(S, 1);
    }
    return vm.top(S);
  }

  /** redis.log(level, msg, ...) */
  protected redisLog(S: LuaState): number {
    const vm = this.vm;
    const argc = vm.top(S);
    if (argc < 2) {
      this.pushErrorTable(S, 'redis.log() requires two arguments or more.', false);
      return vm.raise(S);
    }
    if (!vm.isNumber(S, 1)) {
      this.pushErrorTable(S, 'First argument must be a number (log level).', false);
      return vm.raise(S);
    }
    const level = Math.trunc(vm.toNumber(S, 1));
    if (!(level >= 0 && level <= 3)) {
      this.pushErrorTable(S, 'Invalid debug level.', false);
      return vm.raise(S);
    }
    const parts: string[] = [];
    for (let j = 2; j <= argc; j++) {
      const s = vm.toStr(S, j);
      if (s !== null) parts.push(s);
    }
    this.server.log[LOG_LEVELS[level]!](parts.join(' '));
    return 0;
  }

  /** redis.setresp(2|3) */
  private redisSetResp(S: LuaState): number {
    const vm = this.vm;
    if (this.run === null) {
      this.pushErrorTable(S, 'redis.setresp can only be called inside a script invocation', false);
      return vm.raise(S);
    }
    if (vm.top(S) !== 1) {
      this.pushErrorTable(S, 'redis.setresp() requires one argument.', false);
      return vm.raise(S);
    }
    const resp = Math.trunc(vm.toNumber(S, 1));
    if (resp !== 2 && resp !== 3) {
      this.pushErrorTable(S, 'RESP version must be 2 or 3.', false);
      return vm.raise(S);
    }
    this.client.resp = resp;
    return 0;
  }

  /** redis.sha1hex(s) */
  private redisSha1hex(S: LuaState): number {
    const vm = this.vm;
    if (vm.top(S) !== 1) {
      this.pushErrorTable(S, 'wrong number of arguments', false);
      return vm.raise(S);
    }
    // lua_tolstring of a non-string is NULL: Redis hashes zero bytes
    vm.pushString(S, sha1hex(vm.toStr(S, 1) ?? ''));
    return 1;
  }

  /** redis.error_reply(msg): {err = msg}, with ERR when msg has no '-' code */
  private redisErrorReply(S: LuaState): number {
    const vm = this.vm;
    if (vm.top(S) !== 1 || vm.type(S, -1) !== LUA_TSTRING) {
      this.pushErrorTable(S, 'wrong number or type of arguments', false);
      return 1;
    }
    let err = vm.toStr(S, -1)!;
    const nul = err.indexOf('\0');
    if (nul >= 0) err = err.slice(0, nul);
    this.pushErrorTable(S, err.startsWith('-') ? err : `-${err}`, false);
    return 1;
  }

  /** redis.status_reply(msg): {ok = msg} */
  private redisStatusReply(S: LuaState): number {
    const vm = this.vm;
    if (vm.top(S) !== 1 || vm.type(S, -1) !== LUA_TSTRING) {
      this.pushErrorTable(S, 'wrong number or type of arguments', false);
      return 1;
    }
    vm.newTable(S);
    vm.pushValue(S, -2);
    vm.setField(S, -2, 'ok');
    return 1;
  }

  /** redis.set_repl(flags) */
  private redisSetRepl(S: LuaState): number {
    const vm = this.vm;
    const run = this.run;
    if (run === null) {
      this.pushErrorTable(S, 'redis.set_repl can only be called inside a script invocation', false);
      return vm.raise(S);
    }
    if (vm.top(S) !== 1) {
      this.pushErrorTable(S, 'redis.set_repl() requires two arguments.', false);
      return vm.raise(S);
    }
    const flags = Math.trunc(vm.toNumber(S, -1));
    if ((flags & ~(PROPAGATE_AOF | PROPAGATE_REPL)) !== 0) {
      this.pushErrorTable(S, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.', false);
      return vm.raise(S);
    }
    run.replFlags = flags;
    return 0;
  }

  /** redis.acl_check_cmd(cmd, ...): whether the script's caller may run that command line. */
  private redisAclCheckCmd(S: LuaState): number {
    const vm = this.vm;
    if (this.run === null) {
      this.pushErrorTable(S, 'redis.acl_check_cmd can only be called inside a script invocation', false);
      return vm.raise(S);
    }
    const argc = vm.top(S);
    if (argc === 0) {
      this.pushErrorTable(S, 'Please specify at least one argument for this redis lib call', false);
      return vm.raise(S);
    }
    const argv: string[] = [];
    for (let j = 1; j <= argc; j++) {
      const t = vm.type(S, j);
      if (t === LUA_TNUMBER) argv.push(luaNumberArg(vm.toNumber(S, j)));
      else if (t === LUA_TSTRING) argv.push(vm.toStr(S, j)!);
      else {
        vm.pop(S, argc);
        this.pushErrorTable(S, 'Lua redis lib command arguments must be strings or integers', false);
        return vm.raise(S);
      }
    }
    vm.pop(S, argc);
    const { spec } = lookupCommand(this.server, argv);
    if (spec === undefined) {
      this.pushErrorTable(S, 'Invalid command passed to redis.acl_check_cmd()', false);
      return vm.raise(S);
    }
    const out: AclDenial = { reason: 0, pos: 0 };
    vm.pushBoolean(S, this.server.acl.check(this.run!.caller.user, spec, argv, out) === ACL_OK);
    return 1;
  }
}

/**
 * Pushes a RESP reply (a command's output, RESP2 or RESP3) as a Lua value (redisProtocolToLuaType
 * in script_lua.c): bulk and simple strings, integers as numbers, nulls as false (RESP2) or nil
 * (RESP3 null), errors as {err=...}, status as {ok=...}, arrays as tables, RESP3 maps, sets,
 * doubles, big numbers and verbatim strings as {map=...}, {set=...}, {double=...},
 * {big_number=...}, {verbatim_string={format=..., string=...}}; attributes are skipped, a push
 * frame is nil.
 */
class RespToLua {
  private pos = 0;

  constructor(private readonly vm: LuaVM, private readonly L: LuaState, private readonly s: string) {}

  private line(): string {
    const end = this.s.indexOf('\r\n', this.pos);
    const l = this.s.slice(this.pos + 1, end);
    this.pos = end + 2;
    return l;
  }

  private grow(n: number): void {
    if (!this.vm.checkStack(this.L, n)) this.vm.error(this.L, 'lua stack limit reach when parsing redis.call reply');
  }

  /** Parses one value and pushes it (or, with push false, skips it). */
  value(push = true): void {
    const vm = this.vm;
    const L = this.L;
    const type = this.s[this.pos];
    switch (type) {
      case '+': {
        const text = this.line();
        if (!push) return;
        this.grow(3);
        vm.newTable(L);
        vm.pushString(L, text);
        vm.setField(L, -2, 'ok');
        return;
      }
      case '-': {
        const text = this.line();
        if (!push) return;
        this.grow(3);
        vm.newTable(L);
        vm.pushString(L, errorTableText(`-${text}`));
        vm.setField(L, -2, 'err');
        return;
      }
      case ':': {
        const n = Number(this.line());
        if (push) {
          this.grow(1);
          vm.pushNumber(L, n);
        }
        return;
      }
      case '$':
      case '=': {
        const len = Number(this.line());
        if (len < 0) {
          if (push) {
            this.grow(1);
            vm.pushBoolean(L, false);
          }
          return;
        }
        const body = this.s.slice(this.pos, this.pos + len);
        this.pos += len + 2;
        if (!push) return;
        if (type === '$') {
          this.grow(1);
          vm.pushString(L, body);
        } else {
          this.grow(5);
          vm.newTable(L);
          vm.newTable(L);
          vm.pushString(L, body.slice(4));
          vm.setField(L, -2, 'string');
          vm.pushString(L, body.slice(0, 3));
          vm.setField(L, -2, 'format');
          vm.setField(L, -2, 'verbatim_string');
        }
        return;
      }
      case '>':
        // Redis's reply parser has no callback for a push frame: the script gets nothing (nil)
        if (push) {
          this.grow(1);
          vm.pushNil(L);
        }
        return;
      case '*': {
        const n = Number(this.line());
        if (n < 0) {
          if (push) {
            this.grow(1);
            vm.pushBoolean(L, false);
          }
          return;
        }
        if (push) {
          this.grow(2);
          vm.newTable(L);
        }
        for (let j = 0; j < n; j++) {
          if (push) vm.pushNumber(L, j + 1);
          this.value(push);
          if (push) vm.setTable(L, -3);
        }
        return;
      }
      case '%':
      case '~': {
        const n = Number(this.line());
        if (push) {
          this.grow(3);
          vm.newTable(L);
          vm.pushString(L, type === '%' ? 'map' : 'set');
          vm.newTable(L);
        }
        for (let j = 0; j < n; j++) {
          this.value(push);
          if (type === '%') this.value(push);
          else if (push) {
            this.grow(1);
            vm.pushBoolean(L, true);
          }
          if (push) vm.setTable(L, -3);
        }
        if (push) vm.setTable(L, -3);
        return;
      }
      case '_':
        this.line();
        if (push) {
          this.grow(1);
          vm.pushNil(L);
        }
        return;
      case '#': {
        const b = this.line() === 't';
        if (push) {
          this.grow(1);
          vm.pushBoolean(L, b);
        }
        return;
      }
      case ',': {
        const text = this.line();
        if (!push) return;
        const d = text === 'inf' ? Infinity : text === '-inf' ? -Infinity : text === 'nan' || text === '-nan' ? NaN : Number(text);
        this.grow(3);
        vm.newTable(L);
        vm.pushNumber(L, d);
        vm.setField(L, -2, 'double');
        return;
      }
      case '(': {
        const text = this.line();
        if (!push) return;
        this.grow(3);
        vm.newTable(L);
        vm.pushString(L, text);
        vm.setField(L, -2, 'big_number');
        return;
      }
      case '|': {
        // an attribute map, not exposed to scripts: skipped, then the value it annotates
        const n = Number(this.line());
        for (let j = 0; j < 2 * n; j++) this.value(false);
        this.value(push);
        return;
      }
      default:
        // a command that replied nothing (CLIENT REPLY OFF cannot be set from a script)
        if (push) vm.pushNil(L);
    }
  }
}
