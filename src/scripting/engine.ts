/**
 * EVAL's Lua engine (Redis 7.0.15's src/eval.c): the script cache by SHA1 and the run of a cached
 * script with KEYS and ARGV, on the Lua state and `redis` API of {@link LuaEngine}
 * (script-lua.ts). It is created on the first command that needs Lua, together with the function
 * engine (functions.ts); {@link ScriptingEngine.ensure} loads both.
 */
import { LuaVM, LUA_REGISTRYINDEX } from './lua.js';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { LuaEngine, parseShebang, sha1hex, SCRIPT_FLAG_EVAL_COMPAT_MODE } from './script-lua.js';
import { FunctionEngine } from './functions.js';

export {
  SCRIPT_FLAG_NO_WRITES, SCRIPT_FLAG_ALLOW_OOM, SCRIPT_FLAG_ALLOW_STALE, SCRIPT_FLAG_NO_CLUSTER,
  SCRIPT_FLAG_ALLOW_CROSS_SLOT, SCRIPT_FLAG_EVAL_COMPAT_MODE,
} from './script-lua.js';

/** Engine creations under way or done, per server (see {@link ScriptingEngine.ensure}). */
const engineLoads = new WeakMap<Server, Promise<ScriptingEngine>>();

/** A cached script: its body and shebang flags (luaScript in eval.c). */
interface CachedScript {
  body: string;
  flags: number;
  /** index of its compiled function in the registry's script table */
  slot: number;
}

/**
 * The EVAL engine of one server. Created on the first scripting command ({@link create} is
 * asynchronous: the WebAssembly module loads); the commands then run synchronously.
 */
export class ScriptingEngine extends LuaEngine {
  /** the script cache by SHA1 (lctx.lua_scripts); the compiled functions are in the registry's `__amber_scripts` */
  private readonly scripts = new Map<string, CachedScript>();
  private readonly shaOfBody = new Map<string, string>();
  private slots = 0;
  /** bytes of the cached scripts' bodies and their entries (lua_scripts_mem) */
  private scriptsMem = 0;

  private constructor(server: Server, vm: LuaVM) {
    super(server, vm, 'eval');
    vm.newTable(this.L);
    vm.setField(this.L, LUA_REGISTRYINDEX, '__amber_scripts');
  }

  /**
   * Loads the Lua VM and builds EVAL's environment.
   * @throws Error when the VM cannot be loaded (the wasmoon-lua5.1 package or its .wasm missing)
   */
  static async create(server: Server): Promise<ScriptingEngine> {
    return new ScriptingEngine(server, await LuaVM.create());
  }

  /**
   * The server's Lua engines, created once: EVAL's, kept in `server.scripting`, and the function
   * engine, attached to `server.functions` (the first scripting or function command, or a file
   * being loaded that holds scripts or functions, creates them). Later calls return the same
   * promise, a failed creation included.
   */
  static ensure(server: Server): Promise<ScriptingEngine> {
    let p = engineLoads.get(server);
    if (p === undefined) {
      p = Promise.all([ScriptingEngine.create(server), FunctionEngine.create(server)]).then(([engine, functions]) => {
        server.scripting = engine;
        server.functions.attach(functions);
        server.closeHooks.push(() => {
          engine.close();
          functions.close();
        });
        return engine;
      });
      engineLoads.set(server, p);
    }
    return p;
  }

  /** number_of_cached_scripts */
  get cachedScripts(): number {
    return this.scripts.size;
  }

  /** used_memory_scripts_eval: the cached bodies and their entries, bytes */
  get scriptsMemory(): number {
    return this.scriptsMem;
  }

  // ---------------------------------------------------------------- the script cache

  /** True when the script with this SHA1 (any case) is cached. */
  exists(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase());
  }

  /** The cached script of `sha` (any case), or undefined. */
  lookup(sha: string): CachedScript | undefined {
    return this.scripts.get(sha.toLowerCase());
  }

  /**
   * Compiles and caches a script (luaCreateFunction): its shebang flags, then the body as the
   * function `f_<sha>` in the registry. Returns the SHA1, or an error reply text (without the
   * leading '-') for a bad shebang or a syntax error.
   */
  createFunction(body: string): { sha: string } | { error: string } {
    // the SHA1 of a body seen before is not computed again (EVAL sends the body every time)
    const known = this.shaOfBody.get(body);
    if (known !== undefined) return { sha: known };
    const sha = sha1hex(body);
    if (this.scripts.has(sha)) return { sha };
    const sb = parseShebang(body);
    if ('error' in sb) return sb;
    const flags = sb.flags;
    // the shebang line stays out of the code but keeps its line: numbering goes on after it
    const code = sb.codeStart === 0 ? body : body.slice(sb.codeStart);
    const vm = this.vm;
    const L = this.L;
    if (vm.load(L, code, '@user_script') !== 0) {
      const msg = vm.toStr(L, -1) ?? '';
      vm.pop(L, 1);
      return { error: `ERR Error compiling script (new function): ${msg}` };
    }
    const slot = ++this.slots;
    vm.getField(L, LUA_REGISTRYINDEX, '__amber_scripts');
    vm.insert(L, -2);
    vm.rawSetI(L, -2, slot);
    vm.pop(L, 1);
    this.scripts.set(sha, { body, flags, slot });
    this.shaOfBody.set(body, sha);
    // dictAdd's entry, the sha key (sds) and the body (robj) as Redis counts them
    this.scriptsMem += 40 + 64 + body.length + 16;
    return { sha };
  }

  /** SCRIPT FLUSH: forgets every cached script (Redis recreates its Lua state). */
  flush(): void {
    const vm = this.vm;
    const L = this.L;
    vm.newTable(L);
    vm.setField(L, LUA_REGISTRYINDEX, '__amber_scripts');
    this.scripts.clear();
    this.shaOfBody.clear();
    this.scriptsMem = 0;
    vm.gc(2, 0);
  }

  // ---------------------------------------------------------------- running a script

  /**
   * The shebang flags a script command would run with (evalGetCommandFlags): those of the cached
   * script, else of the body's shebang (EVAL), or null when none apply (no shebang, an unknown
   * SHA1, a shebang that does not parse: the command's own flags then).
   */
  flagsOf(bodyOrSha: string, bySha: boolean): number | null {
    let flags: number;
    if (bySha) {
      const script = bodyOrSha.length === 40 ? this.scripts.get(bodyOrSha.toLowerCase()) : undefined;
      if (script === undefined) return null;
      flags = script.flags;
    } else {
      const sha = this.shaOfBody.get(bodyOrSha);
      if (sha !== undefined) flags = this.scripts.get(sha)!.flags;
      else {
        const sb = parseShebang(bodyOrSha);
        if ('error' in sb) return null;
        flags = sb.flags;
      }
    }
    return flags & SCRIPT_FLAG_EVAL_COMPAT_MODE ? null : flags;
  }


  /**
   * Runs the cached script `sha` for client `c` with KEYS and ARGV (evalGenericCommand after the
   * lookup), replying to `c`. `ro`: EVAL_RO / EVALSHA_RO.
   */
  runScript(c: Client, sha: string, keys: string[], args: string[], ro: boolean): void {
    const script = this.scripts.get(sha)!;
    this.execute(c, sha, script.flags, ro, () => {
      const vm = this.vm;
      const L = this.L;
      vm.getField(L, LUA_REGISTRYINDEX, '__amber_scripts');
      vm.rawGetI(L, -1, script.slot);
      vm.remove(L, -2);
      this.setGlobalArray('KEYS', keys);
      this.setGlobalArray('ARGV', args);
      return 0;
    });
  }
}
