/**
 * What busy scripts rely on in the Lua VM (src/scripting/lua.ts): a coroutine yields from its
 * count hook and goes on where it stopped when resumed; LuaVM.canYieldFromHook tells the script's
 * own level (yield allowed) from a point inside pcall, a metamethod or a table.sort comparator
 * (lua_yield would raise "attempt to yield across metamethod/C-call boundary"); the state layout
 * check passes on the pinned build; a dead coroutine keeps the frames of its error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LuaVM, LUA_MASKCOUNT, LUA_YIELD, LUA_GLOBALSINDEX } from '../../src/scripting/lua.js';

/** Loads `code` as a function on `vm.main`, moves it to a new coroutine; returns the coroutine. */
function coroutineOf(vm: LuaVM, code: string): number {
  const L = vm.main;
  assert.equal(vm.load(L, code, '@test'), 0, vm.toStr(L, -1) ?? '');
  const co = vm.newThread(L);
  vm.setField(L, LUA_GLOBALSINDEX, `__co${co}`); // keeps it from the collector
  vm.xmove(L, co, 1);
  return co;
}

test('a coroutine yields from its count hook, at its own level only, and resumes where it stopped', async () => {
  const vm = await LuaVM.create();
  try {
    const seen = { top: 0, nested: 0 };
    let yieldNow = false;
    const hook = vm.hookFn((S) => {
      // the script marks where it is in a global: 'top' or 'nested'
      vm.getField(S, LUA_GLOBALSINDEX, 'where');
      const where = vm.toStr(S, -1);
      vm.pop(S, 1);
      const can = vm.canYieldFromHook(S);
      if (where === 'top') {
        assert.equal(can, true, 'the script level may yield');
        seen.top++;
      } else if (where === 'nested') {
        assert.equal(can, false, 'inside pcall / a metamethod / a comparator, no yield');
        seen.nested++;
      }
      if (yieldNow && can) {
        yieldNow = false;
        vm.yieldFromHook(S);
      }
    });
    assert.equal(vm.stateLayoutChecked(vm.main, hook), true, 'the pinned build has Lua 5.1.5\'s lua_State layout');
    const co = coroutineOf(vm, `
      -- 'where' says where the code runs; '?' between (a call being set up or returning)
      local n = 0
      for round = 1, 3 do
        where = 'top'
        for i = 1, 3000 do n = n + 1 end
        where = '?'
        pcall(function() where = 'nested' for i = 1, 3000 do n = n + 1 end where = '?' end)
        local t = setmetatable({}, { __index = function() where = 'nested' for i = 1, 3000 do n = n + 1 end where = '?' return 0 end })
        local _ = t.x
        where = 'top'
        local a = {} for i = 1, 200 do a[i] = (i * 7919) % 211 end
        where = '?'
        table.sort(a, function(x, y) where = 'nested' for i = 1, 10 do n = n + 1 end where = '?' return x < y end)
      end
      return n
    `);
    vm.setHook(co, hook, LUA_MASKCOUNT, 97);
    let yields = 0;
    let status = LUA_YIELD;
    for (let nargs = 0; status === LUA_YIELD; nargs = 0) {
      yieldNow = true;
      status = vm.resume(co, nargs);
      if (status === LUA_YIELD) yields++;
      assert.ok(yields < 10000, 'the run ends');
    }
    assert.equal(status, 0, vm.toStr(co, -1) ?? '');
    assert.ok(yields > 10, `yielded ${yields} times`);
    assert.ok(seen.top > 0 && seen.nested > 0, JSON.stringify(seen));
    // the work done is the work of a run without yields: nothing skipped or repeated
    const sortWork = vm.toNumber(co, -1) - 3 * 9000;
    assert.ok(sortWork > 0 && sortWork % 10 === 0, `n = ${vm.toNumber(co, -1)}`);
  } finally {
    vm.close();
  }
});

test('a coroutine that died of an error keeps its frames for debug.getinfo(co, level)', async () => {
  const vm = await LuaVM.create();
  try {
    const L = vm.main;
    const co = coroutineOf(vm, 'local x = 1\nlocal y = 2\nerror("boom")\n');
    assert.notEqual(vm.resume(co, 0), 0);
    assert.match(vm.toStr(co, -1) ?? '', /boom/);
    assert.equal(vm.load(L, "local co = ... local i = debug.getinfo(co, 0, 'Sl') local j = debug.getinfo(co, 1, 'Sl') return i.what .. ' ' .. j.source .. ':' .. j.currentline", '@probe'), 0);
    vm.getField(L, LUA_GLOBALSINDEX, `__co${co}`);
    assert.equal(vm.pcall(L, 1, 1, 0), 0, vm.toStr(L, -1) ?? '');
    assert.equal(vm.toStr(L, -1), 'C @test:3', 'level 0 is error(), level 1 the line that called it');
  } finally {
    vm.close();
  }
});
