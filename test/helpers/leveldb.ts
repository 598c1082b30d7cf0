/** Helpers shared by the LevelDB engine's integration tests. */
import assert from 'node:assert/strict';
import type { RawClient } from './servers.js';

/** One field of an INFO reply (`name:value` line). @throws when the field is absent */
export function infoField(info: string, name: string): string {
  const m = new RegExp(`\\r\\n${name}:([^\\r]*)\\r\\n`).exec(info);
  if (m === null) throw new Error(`INFO has no ${name}`);
  return m[1]!;
}

/**
 * A function that runs commands on `rc` (each must succeed) and returns how many LevelDB records
 * they wrote (INFO leveldb's leveldb_records_written before and after).
 */
export function recordCost(rc: RawClient): (...cmds: string[][]) => Promise<number> {
  const written = async (): Promise<number> => Number(infoField(await rc.call('INFO', 'leveldb'), 'leveldb_records_written'));
  return async (...cmds) => {
    const w0 = await written();
    for (const c of cmds) {
      const r = await rc.call(...c);
      assert.ok(!r.startsWith('-'), `${c.join(' ')}: ${r}`);
    }
    return (await written()) - w0;
  };
}
