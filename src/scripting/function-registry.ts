/**
 * The function libraries of a server (Redis 7.0.15's src/functions.c): the libraries and
 * functions by name (functionsLibCtx), FUNCTION LOAD / DELETE / FLUSH / RESTORE's changes to them,
 * and the FUNCTION DUMP payload. `server.functions` holds one from start-up; the Lua engine that
 * compiles and runs the code (functions.ts) is attached when Lua is loaded
 * (ScriptingEngine.ensure). Library names are case-sensitive, function names are not (FCALL finds
 * `F1` as `f1`), as in Redis's dicts.
 *
 * Libraries and functions are listed in load order; Redis lists them in its dict's order, which
 * depends on a hash seed drawn at each start, so no client can rely on an order.
 */
import type { FunctionEngine } from './functions.js';
import { splitArgs } from '../protocol/splitargs.js';
import { payloadWithFooter, writeFunctionRecords, type RdbSaveOptions } from '../persistence/rdb/encoder.js';
import { RdbReader } from '../persistence/rdb/reader.js';
import { RDB_OPCODE_FUNCTION, RDB_OPCODE_FUNCTION2 } from '../persistence/rdb/constants.js';

/** The one engine name (LUA_ENGINE_NAME); `#!lua` matches it whatever the case. */
export const LUA_ENGINE_NAME = 'LUA';
/** FUNCTION LOAD's limit on a library's load-time code, ms (LOAD_TIMEOUT_MS); none when loading files. */
export const LOAD_TIMEOUT_MS = 500;

/** One function of a library (functionInfo). */
export interface FunctionInfo {
  name: string;
  desc: string | null;
  /** SCRIPT_FLAG_* bits */
  flags: number;
  /** its callback's slot in the engine's registry table */
  slot: number;
  lib: LibraryInfo;
}

/** A library (functionLibInfo): its whole code, shebang line included, as FUNCTION LOAD got it. */
export interface LibraryInfo {
  name: string;
  engine: string;
  code: string;
  /** by name, case-sensitive, in registration order */
  functions: Map<string, FunctionInfo>;
}

/** Library restore policies of FUNCTION RESTORE (and of a file load: FLUSH for a full load). */
export type RestorePolicy = 'flush' | 'append' | 'replace';

/** The registry's libraries and functions (functionsLibCtx). */
class LibCtx {
  readonly libraries = new Map<string, LibraryInfo>();
  /** by lower-case name (functionDictType is case-insensitive) */
  readonly functions = new Map<string, FunctionInfo>();
  /** bytes of the libraries' and functions' entries (cache_memory) */
  memory = 0;

  link(li: LibraryInfo): void {
    for (const fi of li.functions.values()) {
      // two functions of one library may differ only in case: FCALL finds the first (dictAdd
      // keeps the entry it has)
      const k = fi.name.toLowerCase();
      if (!this.functions.has(k)) this.functions.set(k, fi);
      this.memory += functionMemory(fi);
    }
    this.libraries.set(li.name, li);
    this.memory += libraryMemory(li);
  }

  unlink(li: LibraryInfo): void {
    for (const fi of li.functions.values()) {
      const k = fi.name.toLowerCase();
      if (this.functions.get(k) === fi) this.functions.delete(k);
      this.memory -= functionMemory(fi);
    }
    this.libraries.delete(li.name);
    this.memory -= libraryMemory(li);
  }
}

/** functionMallocSize: the struct, the name, the description and the engine's ctx, bytes. */
function functionMemory(fi: FunctionInfo): number {
  return 48 + fi.name.length + 9 + (fi.desc === null ? 0 : fi.desc.length + 9) + 8;
}

/** libraryMallocSize: the struct, the name and the code, bytes. */
function libraryMemory(li: LibraryInfo): number {
  return 40 + li.name.length + 9 + li.code.length + 9;
}

/** [a-zA-Z0-9_]+ (functionsVerifyName) */
export function validName(name: string): boolean {
  return /^[a-zA-Z0-9_]+$/.test(name);
}

/**
 * The shebang of a library (functionExtractLibMetaData): `#!<engine> name=<name>`, split as
 * sdssplitargs splits (quotes allowed). `code` starts at the shebang's newline, so that line
 * numbers count the shebang as line 1. Errors are Redis's texts.
 */
export function libraryMetadata(payload: string): { engine: string; name: string; code: string } | { error: string } {
  if (!payload.startsWith('#!')) return { error: 'Missing library metadata' };
  const nl = payload.indexOf('\n');
  if (nl < 0) return { error: 'Invalid library metadata' };
  // strchr stops at a NUL too: a shebang cannot hold one
  const shebang = payload.slice(0, nl);
  const parts = splitArgs(shebang.includes('\0') ? shebang.slice(0, shebang.indexOf('\0')) : shebang);
  if (parts === null || parts.length === 0) return { error: 'Invalid library metadata' };
  const engine = parts[0]!.slice(2);
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === 'name=') {
      if (name !== null) return { error: 'Invalid metadata value, name argument was given multiple times' };
      name = part.slice(5);
      continue;
    }
    return { error: `Invalid metadata value given: ${part}` };
  }
  if (name === null) return { error: 'Library name was not given' };
  return { engine, name, code: payload.slice(nl) };
}


/**
 * The functions of one server (the current functionsLibCtx and the engines dict). Loading and
 * calling need the engine ({@link attach}ed once Lua is loaded); listing, deleting, flushing and
 * dumping do not.
 */
export class FunctionsRegistry {
  private ctx = new LibCtx();
  private engineRef: FunctionEngine | null = null;
  /** called after every change of the libraries (the LevelDB engine writes them through) */
  readonly changeHooks: Array<() => void> = [];

  /** The Lua engine of functions, once loaded. */
  get engine(): FunctionEngine | null {
    return this.engineRef;
  }

  attach(engine: FunctionEngine): void {
    this.engineRef = engine;
  }

  /** The libraries, in load order. */
  get libraries(): ReadonlyMap<string, LibraryInfo> {
    return this.ctx.libraries;
  }

  /** number_of_functions */
  get functionCount(): number {
    return this.ctx.functions.size;
  }

  /** The function FCALL names (any case), or undefined. */
  lookup(name: string): FunctionInfo | undefined {
    return this.ctx.functions.get(name.toLowerCase());
  }

  /** used_memory_functions: the registry's entries and the engine's overhead, bytes (functionsMemoryEngine). */
  get overheadMemory(): number {
    return 200 + this.ctx.memory;
  }

  /** used_memory_vm_functions: the function engine's Lua heap, bytes. */
  get vmMemory(): number {
    return this.engineRef?.vmMemory ?? 0;
  }

  /** The libraries' codes, in load order: what RDB FUNCTION2 records, FUNCTION DUMP and the stores hold. */
  codes(): string[] {
    return [...this.ctx.libraries.values()].map((li) => li.code);
  }

  private changed(): void {
    for (const h of this.changeHooks) h();
  }

  /**
   * Compiles a library into `ctx` (functionsCreateWithLibraryCtx): its metadata, its name, the
   * engine, a name clash (replaced when `replace`), its code, then its functions' names against
   * the other libraries'. Returns the library's name, or the error text.
   */
  private create(ctx: LibCtx, code: string, replace: boolean, timeout: number): { name: string } | { error: string } {
    const md = libraryMetadata(code);
    if ('error' in md) return md;
    if (!validName(md.name)) {
      return { error: 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long' };
    }
    if (md.engine.toUpperCase() !== LUA_ENGINE_NAME) return { error: `Engine '${md.engine}' not found` };
    const engine = this.engineRef;
    if (engine === null) return { error: 'Lua is not loaded on this server yet: retry the command' };
    const old = ctx.libraries.get(md.name);
    if (old !== undefined && !replace) return { error: `Library '${md.name}' already exists` };
    if (old !== undefined) ctx.unlink(old);
    const lib: LibraryInfo = { name: md.name, engine: LUA_ENGINE_NAME, code, functions: new Map() };
    let error = engine.createLibrary(lib, md.code, timeout);
    if (error === null && lib.functions.size === 0) error = 'No functions registered';
    if (error === null) {
      for (const fi of lib.functions.values()) {
        if (ctx.functions.has(fi.name.toLowerCase())) {
          error = `Function ${fi.name} already exists`;
          break;
        }
      }
    }
    if (error !== null) {
      engine.freeLibrary(lib);
      if (old !== undefined) ctx.link(old);
      return { error };
    }
    ctx.link(lib);
    if (old !== undefined) engine.freeLibrary(old);
    return { name: md.name };
  }

  /**
   * FUNCTION LOAD [REPLACE] code: returns the library's name or the error text (without the
   * leading '-': a text without a code gets ERR when replied). `timeout`: ms the load-time code
   * may run (0: no limit, for files and the AOF).
   */
  load(code: string, replace: boolean, timeout: number): { name: string } | { error: string } {
    const r = this.create(this.ctx, code, replace, timeout);
    if ('name' in r) this.changed();
    return r;
  }

  /** FUNCTION DELETE name: false when there is no such library. */
  delete(name: string): boolean {
    const li = this.ctx.libraries.get(name);
    if (li === undefined) return false;
    this.ctx.unlink(li);
    this.engineRef?.freeLibrary(li);
    this.changed();
    return true;
  }

  /** FUNCTION FLUSH: every library is dropped. */
  flush(): void {
    for (const li of this.ctx.libraries.values()) this.engineRef?.freeLibrary(li);
    this.ctx = new LibCtx();
    this.engineRef?.collectGarbage();
    this.changed();
  }

  /**
   * Installs libraries given by their codes (a file's FUNCTION2 records, a FUNCTION RESTORE
   * payload, a LevelDB store): compiled into a new set first, so that nothing changes on an
   * error, then joined by `policy` (libraryJoin): 'flush' replaces every library, 'append' fails
   * on a library name that exists, 'replace' replaces such libraries. A function name that exists
   * in a library that stays is an error in every policy but 'flush'. Returns null or the error
   * text; `failedAt` tells which code failed to compile.
   */
  install(codes: string[], policy: RestorePolicy): { error: string; failedAt: number } | null {
    // nothing to add, nothing to replace: not a change (an RDB load without libraries)
    if (codes.length === 0 && (policy !== 'flush' || this.ctx.libraries.size === 0)) return null;
    const fresh = new LibCtx();
    for (let i = 0; i < codes.length; i++) {
      // duplicates inside one payload: the later one fails as FUNCTION LOAD without REPLACE would
      const r = this.create(fresh, codes[i]!, false, 0);
      if ('error' in r) {
        for (const li of fresh.libraries.values()) this.engineRef?.freeLibrary(li);
        return { error: r.error, failedAt: i };
      }
    }
    if (policy === 'flush') {
      for (const li of this.ctx.libraries.values()) this.engineRef?.freeLibrary(li);
      this.ctx = fresh;
      this.changed();
      return null;
    }
    const error = this.join(fresh, policy === 'replace');
    if (error !== null) {
      for (const li of fresh.libraries.values()) this.engineRef?.freeLibrary(li);
      return { error, failedAt: -1 };
    }
    this.changed();
    return null;
  }

  /** libraryJoin: moves `src`'s libraries into the current set, or changes nothing and returns the error. */
  private join(src: LibCtx, replace: boolean): string | null {
    const dst = this.ctx;
    const replaced: LibraryInfo[] = [];
    for (const li of src.libraries.values()) {
      const old = dst.libraries.get(li.name);
      if (old === undefined) continue;
      if (!replace) {
        for (const r of replaced) dst.link(r);
        return `Library ${li.name} already exists`;
      }
      dst.unlink(old);
      replaced.push(old);
    }
    for (const fi of src.functions.values()) {
      if (dst.functions.has(fi.name.toLowerCase())) {
        for (const r of replaced) dst.link(r);
        return `Function ${fi.name} already exists`;
      }
    }
    for (const li of src.libraries.values()) dst.link(li);
    for (const r of replaced) this.engineRef?.freeLibrary(r);
    return null;
  }

  /**
   * FUNCTION DUMP's payload (functionDumpCommand): a FUNCTION2 record per library (the opcode,
   * then its code as an RDB string, LZF-compressed as `opts` says), the RDB version (2 bytes LE)
   * and the CRC-64 of all that (8 bytes LE).
   */
  dumpPayload(opts: RdbSaveOptions): Buffer {
    return payloadWithFooter((w) => writeFunctionRecords(w, this.codes()), opts);
  }

}

/**
 * The library codes of a FUNCTION RESTORE payload whose version and checksum were verified
 * (functionRestoreCommand's loop over everything before the 10-byte footer, with 7.0.15's
 * rdbFunctionLoad: the 7.0-rc FUNCTION records, name, engine and description before the code,
 * become a shebang), or the error text.
 */
export function readFunctionPayload(payload: Buffer): { codes: string[] } | { error: string } {
  const body = payload.subarray(0, payload.length - 10);
  const r = new RdbReader(body);
  const codes: string[] = [];
  const read = (what: string): string => {
    try {
      return r.readString();
    } catch {
      throw new PayloadError(what);
    }
  };
  try {
    while (r.offset < body.length) {
      const type = r.bytes(1)[0]!;
      if (type !== RDB_OPCODE_FUNCTION2 && type !== RDB_OPCODE_FUNCTION) return { error: 'given type is not a function' };
      let shebang = '';
      if (type === RDB_OPCODE_FUNCTION) {
        const name = read('Failed loading library name');
        const engine = read('Failed loading engine name');
        let hasDesc: number;
        try {
          hasDesc = r.readLen();
        } catch {
          throw new PayloadError('Failed loading library description indicator');
        }
        if (hasDesc) read('Failed loading library description');
        shebang = `#!${engine} name=${name} \n`;
      }
      codes.push(shebang + read('Failed loading library payload'));
    }
  } catch (e) {
    if (e instanceof PayloadError) return { error: e.message };
    return { error: 'failed loading the given functions payload' };
  }
  return { codes };
}

/** A FUNCTION RESTORE payload that ends inside a record (its message is Redis's reply text). */
class PayloadError extends Error {}
