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
 * they wrote (INFO leveldb's leveldb_records_written before and after, each read once LevelDB has
 * every record: replies do not wait for it when the engine's write-ahead log holds the turn).
 */
export function recordCost(rc: RawClient): (...cmds: string[][]) => Promise<number> {
  const written = async (): Promise<number> => {
    for (let i = 0; i < 500; i++) {
      const info = await rc.call('INFO', 'leveldb');
      if (infoField(info, 'leveldb_pending_records') === '0') return Number(infoField(info, 'leveldb_records_written'));
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('LevelDB did not catch up with the writes within 2.5 s');
  };
  return async (...cmds) => {
    const w0 = await written();
    for (const c of cmds) {
      const r = await rc.call(...c);
      assert.ok(!r.startsWith('-'), `${c.join(' ')}: ${r}`);
    }
    return (await written()) - w0;
  };
}
