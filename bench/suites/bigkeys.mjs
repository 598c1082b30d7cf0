// Big collections (issue 3): ZADD, ZRANK, ZRANGE on a 1,000,000-member sorted set and HSET/HGET on
// a 1,000,000-field hash, Amber against redis-server in the same run; memory of those two keys
// (Redis: used_memory growth; Amber: RSS growth, which also counts V8 heap slack).
import { pipeline, call } from './common.mjs';

const N = 1_000_000;

function usedMemory(info) {
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

export async function run(ctx) {
  console.log('# bigkeys: 1M-member zset, 1M-field hash');
  const res = {};
  for (const kind of ['amber', 'redis']) {
    const srv = await ctx.startServer(kind);
    await new Promise((x) => setTimeout(x, 300));
    const rss0 = ctx.rssKb(srv.proc.pid) * 1024;
    const used0 = usedMemory(await call(srv.port, 'INFO', 'memory'));
    const cmds = [];
    for (let i = 0; i < N; i += 100) {
      const z = ['ZADD', 'bigz'];
      const h = ['HSET', 'bigh'];
      for (let j = i; j < i + 100; j++) {
        z.push(String(j * 3 % 1000003), `member:${j}`);
        h.push(`field:${j}`, `value:${j}`);
      }
      cmds.push(z, h);
    }
    await pipeline(srv.port, cmds, 200);
    await new Promise((x) => setTimeout(x, 1500));
    const rss1 = ctx.rssKb(srv.proc.pid) * 1024;
    const used1 = usedMemory(await call(srv.port, 'INFO', 'memory'));
    const b = (args) => ctx.benchmark(srv.port, ['-c', '50', '-n', '100000', '-r', String(N), ...args]);
    res[kind] = {
      mem: kind === 'redis' ? used1 - used0 : rss1 - rss0,
      zadd: Object.values(b(['ZADD', 'bigz', '__rand_int__', 'member:__rand_int__']))[0],
      zrank: Object.values(b(['ZRANK', 'bigz', 'member:__rand_int__']))[0],
      zrange: Object.values(b(['ZRANGE', 'bigz', '__rand_int__', '+inf', 'BYSCORE', 'LIMIT', '0', '10']))[0],
      hset: Object.values(b(['HSET', 'bigh', 'field:__rand_int__', 'v']))[0],
      hget: Object.values(b(['HGET', 'bigh', 'field:__rand_int__']))[0],
    };
    await srv.stop();
  }
  for (const t of ['zadd', 'zrank', 'zrange', 'hset', 'hget']) {
    ctx.row(`${t.toUpperCase()} on 1M-element key -c 50`, res.amber[t], res.redis[t], 'req/s', '>= 0.8');
  }
  ctx.row('memory of 1M zset + 1M hash (MB; amber RSS growth, redis used_memory growth)', res.amber.mem / 2 ** 20, res.redis.mem / 2 ** 20, 'MB', '<= 2');
}
