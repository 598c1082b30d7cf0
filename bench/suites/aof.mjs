// AOF benchmarks (issue 6): throughput with appendfsync always/everysec/no at -c 50 and -c 50 -P 16
// (Amber and Redis with the same settings, and each against its own no-persistence throughput);
// AOF load time of 1,000,000 keys with a RESP base and an RDB base; peak PSS during a rewrite under
// writes. Usage: npm run bench -- --suite aof [--rounds 1]; AOF_BENCH=throughput,load,rewrite.
import { call, waitInfo, writeLoad, pssKb, steadyPss, BASELINE_MS } from './common.mjs';

export async function run(ctx) {
  console.log('# aof: fsync policies, load time, rewrite under writes');
  // AOF_BENCH=throughput,load,rewrite (the default: all three) picks parts
  const parts = (process.env.AOF_BENCH ?? 'throughput,load,rewrite').split(',');
  const t = 'set,lpush,hset,zadd';
  const runs = [
    ['-c 50', ['-t', t, '-c', '50', '-n', '100000', '-r', '100000']],
    ['-c 50 -P 16', ['-t', t, '-c', '50', '-P', '16', '-n', '400000', '-r', '100000']],
  ];
  const policies = ['none', 'everysec', 'always', 'no'];
  for (const [label, args] of parts.includes('throughput') ? runs : []) {
    // Each policy's run follows the previous one for both servers, alternating which goes first,
    // `rounds` times (medians): on a shared machine the load drifts over minutes, so "everysec over
    // no persistence" is only meaningful between runs taken side by side, not against a baseline
    // taken once at the start.
    const res = { amber: {}, redis: {} };
    for (const kind of ['amber', 'redis']) for (const p of policies) res[kind][p] = [];
    for (let r = 0; r < ctx.rounds; r++) {
      for (const policy of policies) {
        for (const kind of r % 2 ? ['redis', 'amber'] : ['amber', 'redis']) {
          const extra = policy === 'none' ? [] : ['--appendonly', 'yes', '--appendfsync', policy];
          const srv = await ctx.startServer(kind, extra);
          try {
            res[kind][policy].push(ctx.benchmark(srv.port, args));
          } finally {
            await srv.stop();
          }
        }
      }
    }
    const med = (kind, policy, test) => ctx.median(res[kind][policy].map((x) => x[test] ?? 0));
    for (const test of Object.keys(res.redis.none[0])) {
      ctx.row(`${test} no persistence ${label}`, med('amber', 'none', test), med('redis', 'none', test), 'req/s');
      ctx.row(`${test} appendfsync always ${label}`, med('amber', 'always', test), med('redis', 'always', test), 'req/s', '>= 1.2');
      ctx.row(`${test} appendfsync everysec ${label}`, med('amber', 'everysec', test), med('redis', 'everysec', test), 'req/s');
      // medians of the per-round ratios: each round's everysec run was taken right after its none run
      const ratio = (kind) => ctx.median(res[kind].everysec.map((x, i) => (x[test] ?? 0) / (res[kind].none[i][test] || 1)));
      ctx.row(`${test} everysec / no persistence ${label} (amber; redis)`, ratio('amber'), ratio('redis'), 'x', 'amber >= 0.9');
      ctx.row(`${test} appendfsync no ${label}`, med('amber', 'no', test), med('redis', 'no', test), 'req/s');
    }
  }
  if (parts.includes('load')) await load(ctx);
  if (parts.includes('rewrite')) await rewrite(ctx);
}

/** AOF load time of 1,000,000 keys, RESP base and RDB base: start-up to the first PONG. */
async function load(ctx) {
  // load time of 1M keys, RESP base and RDB base
  for (const preamble of ['no', 'yes']) {
    const times = {};
    for (const kind of ['amber', 'redis']) {
      // no automatic rewrite while loading: the one BGREWRITEAOF below makes the base
      const srv = await ctx.startServer(kind, ['--appendonly', 'yes', '--aof-use-rdb-preamble', preamble, '--auto-aof-rewrite-percentage', '0']);
      await ctx.loadKeys(srv.port, 1_000_000, 100);
      const reply = await call(srv.port, 'BGREWRITEAOF');
      if (!reply.startsWith('+')) throw new Error(`${kind} BGREWRITEAOF failed: ${reply}`);
      await waitInfo(srv.port, 'aof_rewrite_in_progress');
      await srv.stop(true);
      const again = await ctx.startServer(kind, ['--appendonly', 'yes', '--aof-use-rdb-preamble', preamble], { dir: srv.dir });
      times[kind] = again.startupMs;
      await again.stop(false);
    }
    ctx.row(`AOF load 1M keys, ${preamble === 'yes' ? 'RDB' : 'RESP'} base (ms)`, times.amber, times.redis, 'ms', '<= 1.5');
  }
}

/**
 * A rewrite of 1,000,000 keys under a write load: peak PSS over PSS before. pssKb counts the
 * process and its children, so Redis's fork child (and its copy-on-write pages) is included.
 */
async function rewrite(ctx) {
  const r = {};
  for (const kind of ['amber', 'redis']) {
    // Automatic rewrites off: loading 1M keys grows the AOF past auto-aof-rewrite-min-size, and
    // an automatic rewrite running while "before" is measured would make the figure meaningless.
    const srv = await ctx.startServer(kind, ['--appendonly', 'yes', '--auto-aof-rewrite-percentage', '0']);
    await ctx.loadKeys(srv.port, 1_000_000, 100, 12);
    await new Promise((x) => setTimeout(x, 1000));
    const load = await writeLoad(srv.port, { keyspace: 1_000_000 });
    const steady = await steadyPss(srv.proc.pid, BASELINE_MS);
    const before = steady.max;
    let peak = pssKb(srv.proc.pid);
    const t0 = Date.now();
    const reply = await call(srv.port, 'BGREWRITEAOF');
    if (!reply.startsWith('+')) throw new Error(`${kind} BGREWRITEAOF failed: ${reply}`);
    await waitInfo(srv.port, 'aof_rewrite_in_progress', () => {
      peak = Math.max(peak, pssKb(srv.proc.pid));
    });
    const t1 = Date.now();
    const secs = (t1 - t0) / 1000;
    const during = await load.rate(t0, t1);
    load.stop();
    await srv.stop();
    r[kind] = { before, peak };
    console.log(`${kind}: rewrite ${secs.toFixed(2)} s, PSS ${(before / 1024).toFixed(0)} -> peak ${(peak / 1024).toFixed(0)} MB (${(peak / before).toFixed(3)}x), writes during it ${Math.round(during)}/s`);
  }
  ctx.row('AOF rewrite peak PSS / before (x)', r.amber.peak / r.amber.before, r.redis.peak / r.redis.before, 'x', 'amber <= 1.10');
}
