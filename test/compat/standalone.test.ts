/**
 * What a standalone Redis 7.0.15 (cluster-enabled no, no module, no replica) answers to the
 * cluster, module and replication commands, against redis-server byte for byte: every CLUSTER
 * subcommand, READONLY, READWRITE, ASKING, RESTORE-ASKING, MODULE, FAILOVER, REPLICAOF NO ONE; the
 * protected MODULE subcommands refused by default and failing when enable-module-command allows
 * them. REPLICAOF to an address is Amber's own refusal (Amber does not replicate).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compatPair } from '../helpers/compat.js';
import { RawClient } from '../helpers/servers.js';

describe('standalone defaults', () => {
  const pair = compatPair();
  const skip = pair.skip;

  test('CLUSTER: every subcommand says cluster support is disabled, after arity and unknown-subcommand checks', { skip }, async () => {
    const cluster = pair.amber.server.commands.get('cluster')!;
    const cmds: string[][] = [['CLUSTER'], ['CLUSTER', 'bogus'], ['CLUSTER', 'keyslot']];
    for (const sub of cluster.subcommands!.values()) {
      // the fewest arguments the subcommand's arity allows, and one more for the variadic ones
      const n = Math.abs(sub.arity) - 2;
      cmds.push(['CLUSTER', sub.name, ...Array.from({ length: n }, () => '1')]);
      if (sub.arity < 0) cmds.push(['CLUSTER', sub.name.toUpperCase(), ...Array.from({ length: n + 1 }, () => '1')]);
    }
    assert.ok(cmds.length > 30);
    await pair.same(cmds);
    await pair.same(cmds, true);
  });

  test('READONLY, READWRITE, ASKING; RESTORE-ASKING restores as RESTORE', { skip }, async () => {
    await pair.reset();
    const cmds = [
      ['READONLY'], ['READWRITE'], ['ASKING'], ['READONLY', 'x'], ['ASKING', 'x'],
      ['SET', 'k', 'v'],
    ];
    await pair.same(cmds);
    const dump = await pair.cr.call('DUMP', 'k');
    const payload = dump.slice(dump.indexOf('\r\n') + 2, -2);
    await pair.same([
      ['RESTORE-ASKING', 'k2', '0', payload],
      ['RESTORE-ASKING', 'k2', '0', payload],
      ['RESTORE-ASKING', 'k2', '0', payload, 'REPLACE'],
      ['RESTORE-ASKING', 'k3', '0', 'bad'],
      ['RESTORE-ASKING', 'k3'],
      ['GET', 'k2'],
      ['EXISTS', 'k3'],
    ]);
  });

  test('MODULE: LIST empty, HELP, LOAD/LOADEX/UNLOAD refused while enable-module-command is no', { skip }, async () => {
    const cmds = [
      ['MODULE', 'LIST'], ['MODULE', 'HELP'], ['MODULE', 'bogus'], ['MODULE'],
      ['MODULE', 'LOAD', '/nonexistent/module.so'], ['MODULE', 'LOAD', '/x.so', 'arg'],
      ['MODULE', 'LOADEX', '/x.so', 'CONFIG', 'a', 'b', 'ARGS', 'c'], ['MODULE', 'UNLOAD', 'foo'],
      ['MODULE', 'UNLOAD'],
      // a refused command aborts the transaction around it
      ['MULTI'], ['MODULE', 'UNLOAD', 'foo'], ['EXEC'],
      ['CONFIG', 'SET', 'enable-module-command', 'yes'],
    ];
    await pair.same(cmds);
    await pair.same(cmds, true);
  });

  test('the protected-command check comes before authentication and the subscribed context', { skip }, async () => {
    await pair.same([['CONFIG', 'SET', 'requirepass', 'pw']]);
    try {
      const [ra, rr] = await Promise.all([pair.amber.port, pair.redis.port].map(async (port) => {
        const c = await RawClient.connect(port);
        try {
          const out = await c.pipeline([['MODULE', 'LOAD', 'x'], ['MODULE', 'LIST'], ['AUTH', 'pw'], ['SUBSCRIBE', 'ch']]);
          out.push(...await c.pipeline([['MODULE', 'UNLOAD', 'x'], ['MODULE', 'LIST']]));
          return out;
        } finally {
          c.close();
        }
      }));
      assert.deepEqual(ra, rr);
      assert.match(ra![0]!, /^-ERR MODULE command not allowed/);
      assert.match(ra![1]!, /^-NOAUTH/);
      assert.match(ra![4]!, /^-ERR MODULE command not allowed/);
    } finally {
      await pair.same([['CONFIG', 'SET', 'requirepass', '']]);
    }
  });

  test('FAILOVER of a master without replicas; REPLICAOF NO ONE', { skip }, async () => {
    await pair.same([
      ['FAILOVER'], ['FAILOVER', 'ABORT'], ['FAILOVER', 'abort', 'x'], ['FAILOVER', 'ABORT', 'FORCE'],
      ['FAILOVER', 'TO', '127.0.0.1', '1'], ['FAILOVER', 'TO', '127.0.0.1', 'abc'], ['FAILOVER', 'TO', '127.0.0.1'],
      ['FAILOVER', 'TIMEOUT', '0'], ['FAILOVER', 'TIMEOUT', '-5', 'FORCE'], ['FAILOVER', 'TIMEOUT', 'x'],
      ['FAILOVER', 'TIMEOUT', '10', 'TIMEOUT', '20'], ['FAILOVER', 'FORCE', 'FORCE'], ['FAILOVER', 'FORCE'],
      ['FAILOVER', 'TO', 'h', '1', 'TO', 'h', '2'], ['FAILOVER', 'bogus'], ['FAILOVER', 'TIMEOUT', '100', 'FORCE', 'TO', 'h', '1'],
      ['REPLICAOF', 'NO', 'ONE'], ['SLAVEOF', 'no', 'one'], ['REPLICAOF', 'no', 'two'],
      ['REPLICAOF', 'localhost', '70000'], ['REPLICAOF', 'localhost', '-1'], ['REPLICAOF', 'localhost', 'abc'],
      ['REPLICAOF', 'NO'], ['ROLE'],
    ]);
  });

  test('REPLICAOF an address: refused, the server stays a master', { skip }, async () => {
    const r = await pair.ca.call('REPLICAOF', '127.0.0.1', String(pair.redis.port));
    assert.match(r, /^-ERR Amber does not replicate: it cannot become a replica of 127\.0\.0\.1:\d+\. REPLICAOF NO ONE is accepted/);
    assert.match(await pair.ca.call('ROLE'), /^\*3\r\n\$6\r\nmaster\r\n/);
  });
});

describe('enable-module-command yes', () => {
  const pair = compatPair({ amber: { 'enable-module-command': 'yes' }, redis: ['--enable-module-command', 'yes'], clients: 'resp2' });

  test('MODULE LOAD and LOADEX fail to load, UNLOAD finds no module, LIST stays empty', { skip: pair.skip }, async () => {
    await pair.same([
      ['MODULE', 'LOAD', '/nonexistent/module.so'], ['MODULE', 'LOAD', '/x.so', 'a', 'b'],
      ['MODULE', 'LOADEX', '/x.so'], ['MODULE', 'LOADEX', '/x.so', 'CONFIG', 'a', 'b', 'ARGS', 'c'], ['MODULE', 'LOADEX', '/x.so', 'CONFIG'],
      ['MODULE', 'UNLOAD', 'foo'], ['MODULE', 'LIST'],
      ['MULTI'], ['MODULE', 'UNLOAD', 'foo'], ['MODULE', 'LIST'], ['EXEC'],
    ]);
  });
});
