/**
 * The C libraries Redis 7.0 builds into its Lua (deps/lua/src: lua_cjson.c, lua_struct.c,
 * lua_cmsgpack.c, lua_bit.c), written against our Lua VM.
 */
import type { LuaState, LuaVM } from '../lua.js';
import { openBit } from './bit.js';
import { openCjson } from './cjson.js';
import { openCmsgpack } from './cmsgpack.js';
import { openStruct } from './struct.js';

export { openBit, openCjson, openCmsgpack, openStruct };

/**
 * Opens the four libraries as the global tables `cjson`, `struct`, `cmsgpack` and `bit`, in the
 * order Redis's luaLoadLibraries (src/script_lua.c) loads them. The stack is left as found.
 */
export function openRedisLibs(vm: LuaVM, L: LuaState): void {
  openCjson(vm, L);
  openStruct(vm, L);
  openCmsgpack(vm, L);
  openBit(vm, L);
}
