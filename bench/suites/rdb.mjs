// RDB benchmarks (issue 5): SAVE time, file size and start-up load time for 1,000,000 100-byte
// strings and for a mixed dataset; BGSAVE under a write load: peak PSS over PSS before, and write
// throughput during the save over throughput without one. Amber and redis-server, same run.
// Usage: npm run bench -- --suite rdb [--rounds 1]; RDB_BENCH=strings,mixed,bgsave picks parts.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, mixedCommands, pssKb, call, waitInfo, writeLoad } from './common.mjs';

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
      await load(srv.port);
      const t0 = Date.now();
      const r = await call(srv.port, 'SAVE');
      if (!r.startsWith('+OK')) throw new Error(`${kind} SAVE failed: ${r}`);
      const saveMs = Date.now() - t0;
      const size = statSync(join(srv.dir, 'dump.rdb')).size;
      await srv.stop(true);
      const again = await ctx.startServer(kind, [], { dir: srv.dir });
      const loadMs = again.startupMs;
      await again.stop(false);
      res[kind] = { saveMs, size, loadMs };
    }
    ctx.row(`SAVE ${label} (ms)`, res.amber.saveMs, res.redis.saveMs, 'ms', '<= 1.5');
    ctx.row(`dump.rdb size ${label} (MB)`, res.amber.size / 2 ** 20, res.redis.size / 2 ** 20, 'MB', 'within 5%');
    ctx.row(`start-up with load ${label} (ms)`, res.amber.loadMs, res.redis.loadMs, 'ms', '<= 1.5');
  }
  // BGSAVE while a write load overwrites keys
  if (!parts.includes('bgsave')) return;
  const r = {};
  for (const kind of ['amber', 'redis']) {
    const srv = await ctx.startServer(kind);
    await ctx.loadKeys(srv.port, 1_000_000, 100);
    await new Promise((x) => setTimeout(x, 1000));
    const load = await writeLoad(srv.port, { keyspace: 1_000_000 });
    await new Promise((x) => setTimeout(x, 500));
    // throughput without a save, over 2 s
    let o0 = load.ops();
    await new Promise((x) => setTimeout(x, 2000));
    const without = (load.ops() - o0) / 2;
    const before = pssKb(srv.proc.pid);
    let peak = before;
    o0 = load.ops();
    const t0 = Date.now();
    await call(srv.port, 'BGSAVE');
    await waitInfo(srv.port, 'rdb_bgsave_in_progress', () => {
      peak = Math.max(peak, pssKb(srv.proc.pid));
    });
    const secs = (Date.now() - t0) / 1000;
    const during = (load.ops() - o0) / secs;
    load.stop();
    await srv.stop();
    r[kind] = { before, peak, without, during, secs };
    console.log(`${kind}: BGSAVE ${secs.toFixed(2)} s, PSS ${(before / 1024).toFixed(0)} -> peak ${(peak / 1024).toFixed(0)} MB, writes ${Math.round(without)}/s -> ${Math.round(during)}/s`);
  }
  ctx.row('BGSAVE peak PSS / PSS before (x)', r.amber.peak / r.amber.before, r.redis.peak / r.redis.before, 'x', 'amber <= 1.10');
  ctx.row('writes during BGSAVE / without (x)', r.amber.during / r.amber.without, r.redis.during / r.redis.without, 'x', 'amber >= 0.7');
}
