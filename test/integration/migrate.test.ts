/**
 * MIGRATE between two amber-server processes, and what it leaves on disk: the keys a MIGRATE
 * moved are deleted durably (their DEL reaches the AOF under appendfsync always, and LevelDB under
 * leveldb-sync always, before the reply), so a kill -9 right after it restarts without them,
 * while the keys it copied stay. Runs without redis-server.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnAmber, tempDirs, callsOn, type AmberChild } from '../helpers/servers.js';

const tmp = tempDirs('amber-migrate-');
const children: AmberChild[] = [];
after(async () => {
  for (const c of children) await c.kill();
});

async function spawn(dir: string, directives: Record<string, string> = {}): Promise<AmberChild> {
  const c = await spawnAmber(dir, directives);
  children.push(c);
  return c;
}

for (const [name, directives] of [
  ['the AOF (appendfsync always)', { appendonly: 'yes', appendfsync: 'always' }],
  ['LevelDB (leveldb-sync always)', { leveldb: 'yes', 'leveldb-sync': 'always' }],
] as const) {
  test(`MIGRATE's deletions survive kill -9 through ${name}`, async () => {
    const target = await spawn(tmp());
    const dir = tmp();
    let source = await spawn(dir, directives);
    const t = String(target.port);
    assert.deepEqual(await callsOn(source.port, [
      ['SELECT', '3'],
      ['SET', 'a', '1'],
      ['RPUSH', 'b', 'x', 'y'],
      ['HSET', 'c', 'f', 'v'],
      ['SET', 'd', '4'],
      ['MIGRATE', '127.0.0.1', t, '', '0', '5000', 'KEYS', 'a', 'b'],
      ['MIGRATE', '127.0.0.1', t, 'c', '0', '5000', 'COPY'],
      // the target refuses d (it exists there): d stays here
      ['MIGRATE', '127.0.0.1', t, 'd', '0', '5000', 'COPY'],
      ['MIGRATE', '127.0.0.1', t, 'd', '0', '5000'],
    ]), ['+OK\r\n', '+OK\r\n', ':2\r\n', ':1\r\n', '+OK\r\n', '+OK\r\n', '+OK\r\n', '+OK\r\n',
      '-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n']);
    await source.kill();
    source = await spawn(dir, directives);
    assert.deepEqual(await callsOn(source.port, [['SELECT', '3'], ['EXISTS', 'a'], ['EXISTS', 'b'], ['HGET', 'c', 'f'], ['GET', 'd']]),
      ['+OK\r\n', ':0\r\n', ':0\r\n', '$1\r\nv\r\n', '$1\r\n4\r\n']);
    assert.deepEqual(await callsOn(target.port, [['GET', 'a'], ['LRANGE', 'b', '0', '-1'], ['HGET', 'c', 'f'], ['GET', 'd']]),
      ['$1\r\n1\r\n', '*2\r\n$1\r\nx\r\n$1\r\ny\r\n', '$1\r\nv\r\n', '$1\r\n4\r\n']);
    await source.kill();
    await target.kill();
  });
}
