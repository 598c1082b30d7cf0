// AOF benchmarks (issue 6): throughput with appendfsync always/everysec/no (Amber and Redis with
// the same settings, and each against its own no-persistence throughput); AOF load time of
// 1,000,000 keys with a RESP base and an RDB base; peak PSS during a rewrite under writes.
import { call, waitInfo, writeLoad, pssKb } from './common.mjs';

export async function run(ctx) {
  console.log('# aof: fsync policies, load time, rewrite under writes');
  const tests = ['-t', 'set,lpush,hset,zadd', '-c', '50', '-n', '100000', '-r', '100000'];
  const none = {};
  for (const kind of ['amber', 'redis']) {
    const srv = await ctx.startServer(kind);
    none[kind] = ctx.benchmark(srv.port, tests);
    await srv.stop();
  }
  for (const policy of ['always', 'everysec', 'no']) {
    const res = {};
    for (const kind of ['amber', 'redis']) {
      const srv = await ctx.startServer(kind, ['--appendonly', 'yes', '--appendfsync', policy]);
      res[kind] = ctx.benchmark(srv.port, tests);
      await srv.stop();
    }
    for (const t of Object.keys(res.redis)) {
      const target = policy === 'always' ? '>= 1.2' : '';
      ctx.row(`${t} appendfsync ${policy} -c 50`, res.amber[t] ?? 0, res.redis[t], 'req/s', target);
      if (policy === 'everysec') ctx.row(`${t} everysec / no persistence (amber; redis)`, (res.amber[t] ?? 0) / (none.amber[t] ?? 1), res.redis[t] / none.redis[t], 'x', 'amber >= 0.9');
    }
  }
  // load time of 1M keys, RESP base and RDB base
  for (const preamble of ['no', 'yes']) {
    const times = {};
    for (const kind of ['amber', 'redis']) {
      const srv = await ctx.startServer(kind, ['--appendonly', 'yes', '--aof-use-rdb-preamble', preamble]);
      await ctx.loadKeys(srv.port, 1_000_000, 100);
      await call(srv.port, 'BGREWRITEAOF');
      await waitInfo(srv.port, 'aof_rewrite_in_progress');
      await srv.stop(true);
      const again = await ctx.startServer(kind, ['--appendonly', 'yes', '--aof-use-rdb-preamble', preamble], { dir: srv.dir });
      times[kind] = again.startupMs;
      await again.stop(false);
    }
    ctx.row(`AOF load 1M keys, ${preamble === 'yes' ? 'RDB' : 'RESP'} base (ms)`, times.amber, times.redis, 'ms', '<= 1.5');
  }
  // rewrite under a write load: peak PSS over PSS before
  const r = {};
  for (const kind of ['amber', 'redis']) {
    const srv = await ctx.startServer(kind, ['--appendonly', 'yes']);
    await ctx.loadKeys(srv.port, 1_000_000, 100);
    await new Promise((x) => setTimeout(x, 1000));
    const load = await writeLoad(srv.port, { keyspace: 1_000_000 });
    await new Promise((x) => setTimeout(x, 1000));
    const before = pssKb(srv.proc.pid);
    let peak = before;
    await call(srv.port, 'BGREWRITEAOF');
    await waitInfo(srv.port, 'aof_rewrite_in_progress', () => {
      peak = Math.max(peak, pssKb(srv.proc.pid));
    });
    load.stop();
    await srv.stop();
    r[kind] = { before, peak };
  }
  ctx.row('AOF rewrite peak PSS / before (x)', r.amber.peak / r.amber.before, r.redis.peak / r.redis.before, 'x', 'amber <= 1.10');
}
