// LevelDB engine benchmarks (issue 7):
// - redis-benchmark -t set,lpush,hset,zadd,sadd -c 50 with leveldb-sync everysec and always,
//   against Amber's AOF and redis-server's AOF with the same fsync policy, same run;
// - restart time with 1,000,000 keys (100-byte strings) and with a mixed data set, from LevelDB,
//   from Amber's AOF and RDB, and from redis-server's AOF and RDB;
// - peak PSS during BACKUP of 1,000,000 keys under a write load (against Redis's BGSAVE, its
//   nearest equivalent: a fork under the same load).
// Usage: npm run bench -- --suite leveldb [--rounds 1]; LEVELDB_BENCH=throughput,restart,backup
// (the default: all three) picks parts.
import { call, writeLoad, pssKb, steadyPss, BASELINE_MS, pipeline, mixedCommands } from './common.mjs';

/** Polls INFO `section` until `done(info)`; calls `onTick` between polls. */
async function waitFor(port, section, done, onTick) {
  for (;;) {
    const info = await call(port, 'INFO', section);
    if (done(info)) return;
    if (onTick) onTick();
    await new Promise((r) => setTimeout(r, 25));
  }
}

const dbsize = async (port) => Number(/:(\d+)/.exec(await call(port, 'DBSIZE'))[1]);

export async function run(ctx) {
  console.log('# leveldb: write-through throughput, restart time, BACKUP under writes');
  const parts = (process.env.LEVELDB_BENCH ?? 'throughput,restart,backup').split(',');
  const tests = ['-t', 'set,lpush,hset,zadd,sadd', '-c', '50', '-n', '100000', '-r', '100000'];
  for (const policy of parts.includes('throughput') ? ['everysec', 'always'] : []) {
    const configs = [
      ['leveldb', 'amber', ['--leveldb', 'yes', '--leveldb-sync', policy]],
      ['amber-aof', 'amber', ['--appendonly', 'yes', '--appendfsync', policy]],
      ['redis-aof', 'redis', ['--appendonly', 'yes', '--appendfsync', policy]],
    ];
    const res = { leveldb: [], 'amber-aof': [], 'redis-aof': [] };
    for (let r = 0; r < ctx.rounds; r++) {
      // alternate the order between rounds: the machine's load drifts
      for (const [name, kind, args] of r % 2 ? [...configs].reverse() : configs) {
        const srv = await ctx.startServer(kind, args);
        try {
          res[name].push(ctx.benchmark(srv.port, tests));
        } finally {
          await srv.stop();
        }
      }
    }
    for (const t of Object.keys(res['redis-aof'][0])) {
      const m = (name) => ctx.median(res[name].map((x) => x[t] ?? 0));
      ctx.row(`${t} leveldb-sync ${policy} vs Redis AOF ${policy}`, m('leveldb'), m('redis-aof'), 'req/s');
      ctx.row(`${t} leveldb-sync ${policy} vs Amber AOF ${policy} [redis col = Amber AOF]`, m('leveldb'), m('amber-aof'), 'req/s', policy === 'everysec' ? '>= 0.7' : '');
    }
  }

  // restart time: the same data written through each engine, SIGKILL, start again (time to PONG)
  for (const [label, fill, expectKeys] of parts.includes('restart') ? [
    ['1M keys of 100 B', (port) => ctx.loadKeys(port, 1_000_000, 100), 1_000_000],
    ['mixed: 20k collections of 100 elements', (port) => pipeline(port, mixedCommands(20_000)), 20_000],
  ] : []) {
    const times = {};
    for (const [name, kind, args, prep] of [
      ['leveldb', 'amber', ['--leveldb', 'yes'], null],
      ['amber-aof', 'amber', ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'yes'], null],
      ['amber-rdb', 'amber', [], 'SAVE'],
      ['redis-aof', 'redis', ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'yes'], null],
      ['redis-rdb', 'redis', [], 'SAVE'],
    ]) {
      const srv = await ctx.startServer(kind, args);
      await fill(srv.port);
      if (prep) await call(srv.port, prep);
      if (name === 'leveldb') await waitFor(srv.port, 'leveldb', (i) => /leveldb_pending_records:0\r\n/.test(i));
      // everysec policies: let the last second reach the files
      await new Promise((r) => setTimeout(r, 1500));
      await srv.stop(true);
      // --rounds restarts of the same files, each after a SIGKILL: one start-up is a noisy sample
      const samples = [];
      for (let r = 0; r < ctx.rounds; r++) {
        const again = await ctx.startServer(kind, args, { dir: srv.dir });
        const n = await dbsize(again.port);
        samples.push(again.startupMs);
        console.log(`  restart ${label} from ${name}: ${Math.round(again.startupMs)} ms, ${n} keys${n === expectKeys ? '' : ` (EXPECTED ${expectKeys})`}`);
        await again.stop(r + 1 < ctx.rounds);
      }
      times[name] = ctx.median(samples);
    }
    ctx.row(`restart ${label}: LevelDB vs Redis RDB (ms)`, times.leveldb, times['redis-rdb'], 'ms', '<= 1.5');
    ctx.row(`restart ${label}: LevelDB vs Amber AOF (ms) [redis col = Amber AOF]`, times.leveldb, times['amber-aof'], 'ms', '< 1');
    ctx.row(`restart ${label}: LevelDB vs Amber RDB (ms) [redis col = Amber RDB]`, times.leveldb, times['amber-rdb'], 'ms');
    ctx.row(`restart ${label}: Amber AOF vs Redis AOF (ms)`, times['amber-aof'], times['redis-aof'], 'ms');
  }

  // BACKUP (Amber) / BGSAVE (Redis) of 1M keys under a write load: peak PSS over PSS before
  if (!parts.includes('backup')) return;
  const pss = {};
  for (const kind of ['amber', 'redis']) {
    const srv = await ctx.startServer(kind, kind === 'amber' ? ['--leveldb', 'yes'] : []);
    try {
      await ctx.loadKeys(srv.port, 1_000_000, 100, 12);
      await new Promise((r) => setTimeout(r, 1000));
      const load = await writeLoad(srv.port, { keyspace: 1_000_000 });
      const before = (await steadyPss(srv.proc.pid, BASELINE_MS)).max;
      let peak = pssKb(srv.proc.pid);
      const t0 = Date.now();
      const tick = () => {
        peak = Math.max(peak, pssKb(srv.proc.pid));
      };
      if (kind === 'amber') {
        await call(srv.port, 'BACKUP', 'backup-bench');
        await waitFor(srv.port, 'leveldb', (i) => /leveldb_backup_in_progress:0\r\n/.test(i), tick);
      } else {
        await call(srv.port, 'BGSAVE');
        await waitFor(srv.port, 'persistence', (i) => /rdb_bgsave_in_progress:0\r\n/.test(i), tick);
      }
      const ms = Date.now() - t0;
      const ops = Math.round(load.ops());
      load.stop();
      pss[kind] = { before, peak };
      console.log(`  ${kind === 'amber' ? 'BACKUP' : 'BGSAVE'} of 1M keys under writes: ${ms} ms, PSS ${Math.round(before / 1024)} -> peak ${Math.round(peak / 1024)} MB, ${ops} writes during the run`);
    } finally {
      await srv.stop();
    }
  }
  ctx.row('BACKUP (Amber) / BGSAVE (Redis) peak PSS / before (x)', pss.amber.peak / pss.amber.before, pss.redis.peak / pss.redis.before, 'x', 'amber <= 1.10');
}
