// RDB benchmarks (issue 5): SAVE time, file size and start-up load time for 1,000,000 100-byte
// strings and for a mixed dataset; BGSAVE while `redis-benchmark -t set -r 1000000 -d 100 -P 16`
// overwrites the keys: peak PSS over the peak PSS under the same load without a save (see
// steadyPss), and write throughput during the save over throughput without one. Amber and
// redis-server, same run.
// Usage: npm run bench -- --suite rdb [--rounds 1]; RDB_BENCH=strings,mixed,bgsave picks parts.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, mixedCommands, pssKb, steadyPss, BASELINE_MS, call, waitInfo, writeLoad } from './common.mjs';

export async function run(ctx) {
  console.log('# rdb: SAVE, size, load; BGSAVE under writes');
  // RDB_BENCH=strings,mixed,bgsave (the default: all three) picks parts
  const parts = (process.env.RDB_BENCH ?? 'strings,mixed,bgsave').split(',');
  const datasets = [
    ['strings', '1M x 100 B strings', (port) => ctx.loadKeys(port, 1_000_000, 100)],
    ['mixed', 'mixed 40k x 100 elems', (port) => pipeline(port, mixedCommands(40_000))],
  ].filter(([part]) => parts.includes(part)).map(([, label, load]) => [label, load]);
  for (const [label, load] of datasets) {
    const res = {};
    for (const kind of ['amber', 'redis']) {
      const srv = await ctx.startServer(kind);
      const tf = Date.now();
      await load(srv.port);
      const fillMs = Date.now() - tf;
      const t0 = Date.now();
      const r = await call(srv.port, 'SAVE');
      if (!r.startsWith('+OK')) throw new Error(`${kind} SAVE failed: ${r}`);
      const saveMs = Date.now() - t0;
      const size = statSync(join(srv.dir, 'dump.rdb')).size;
      await srv.stop(true);
      const again = await ctx.startServer(kind, [], { dir: srv.dir });
      const loadMs = again.startupMs;
      await again.stop(false);
      res[kind] = { saveMs, size, loadMs, fillMs };
    }
    // no target: how fast the data set is written by one pipelining client (bulk loading)
    ctx.row(`fill ${label} by one pipelining client (ms)`, res.amber.fillMs, res.redis.fillMs, 'ms');
    ctx.row(`SAVE ${label} (ms)`, res.amber.saveMs, res.redis.saveMs, 'ms', '<= 1.5');
    ctx.row(`dump.rdb size ${label} (MB)`, res.amber.size / 2 ** 20, res.redis.size / 2 ** 20, 'MB', 'within 5%');
    ctx.row(`start-up with load ${label} (ms)`, res.amber.loadMs, res.redis.loadMs, 'ms', '<= 1.5');
  }
  // BGSAVE while a write load overwrites keys
  if (!parts.includes('bgsave')) return;
  const r = {};
  for (const kind of ['amber', 'redis']) {
    const srv = await ctx.startServer(kind);
    await ctx.loadKeys(srv.port, 1_000_000, 100, 12);
    await new Promise((x) => setTimeout(x, 1000));
    const load = await writeLoad(srv.port, { keyspace: 1_000_000 });
    await new Promise((x) => setTimeout(x, 500));
    // throughput and PSS without a save, over BASELINE_MS
    const w0 = Date.now();
    const steady = await steadyPss(srv.proc.pid, BASELINE_MS);
    const without = await load.rate(w0, Date.now());
    const before = steady.max;
    let peak = pssKb(srv.proc.pid);
    const t0 = Date.now();
    await call(srv.port, 'BGSAVE');
    await waitInfo(srv.port, 'rdb_bgsave_in_progress', () => {
      peak = Math.max(peak, pssKb(srv.proc.pid));
    });
    const t1 = Date.now();
    const secs = (t1 - t0) / 1000;
    const during = await load.rate(t0, t1);
    load.stop();
    await srv.stop();
    r[kind] = { before, peak, without, during, secs };
    console.log(`${kind}: BGSAVE ${secs.toFixed(2)} s, PSS under load without it ${(steady.min / 1024).toFixed(0)}-${(before / 1024).toFixed(0)} MB -> peak ${(peak / 1024).toFixed(0)} MB, writes ${Math.round(without)}/s -> ${Math.round(during)}/s`);
  }
  ctx.row('BGSAVE peak PSS / PSS before (x)', r.amber.peak / r.amber.before, r.redis.peak / r.redis.before, 'x', 'amber <= 1.10');
  ctx.row('writes during BGSAVE / without (x)', r.amber.during / r.amber.without, r.redis.during / r.redis.without, 'x', 'amber >= 0.7');
}
