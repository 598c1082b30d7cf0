// maxmemory against redis-server, in the same run (bench/run.mjs --suite maxmemory):
// - the cost of the limit: redis-benchmark -c 50 -P 16 over SET, HSET, LPUSH, SADD, ZADD with
//   maxmemory 0, then with a limit never reached (Amber keeps its dataset estimate), then with a
//   limit the load keeps exceeding (allkeys-lru evicts before every command);
// - what a limit holds: keys kept after 1,000,000 SETs of 100-byte values through maxmemory 64mb
//   (allkeys-lru), and the resident memory then.
// Each throughput measurement alternates Amber and Redis, `rounds` times, and reports medians.
// No issue sets targets for these rows: they show what a limit costs and holds.
import net from 'node:net';

function info(port, section) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`INFO ${section}\r\n`));
    let b = '';
    s.on('data', (d) => {
      b += d.toString('latin1');
      const nl = b.indexOf('\r\n');
      if (nl > 0 && b.length >= nl + 2 + Number(b.slice(1, nl)) + 2) {
        s.destroy();
        resolve(b);
      }
    });
    s.once('error', reject);
  });
}


export async function run(ctx) {
  const { throughput, startServer, loadKeys, rssKb, row } = ctx;
  console.log('# maxmemory: redis-benchmark -c 50 -P 16 -r 1000000 -d 100; keys kept under a limit');
  const tests = ['-t', 'set,hset,lpush,sadd,zadd'];
  const base = ['-c', '50', '-P', '16', '-n', '500000', '-r', '1000000', '-d', '100', ...tests];
  await throughput('-P 16 maxmemory 0', base);
  const high = ['--maxmemory', '8gb', '--maxmemory-policy', 'allkeys-lru'];
  await throughput('-P 16 maxmemory not reached', base, undefined, { amber: high, redis: high });
  const low = ['--maxmemory', '16mb', '--maxmemory-policy', 'allkeys-lru'];
  await throughput('-P 16 evicting at 16mb', base, undefined, { amber: low, redis: low });
  const kept = {};
  for (const kind of ['amber', 'redis']) {
    const srv = await startServer(kind, ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    try {
      await loadKeys(srv.port, 1_000_000, 100);
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await info(srv.port, 'keyspace');
      kept[kind] = { keys: Number(/db0:keys=(\d+)/.exec(stats)?.[1] ?? 0), rss: rssKb(srv.proc.pid) / 1024 };
    } finally {
      await srv.stop();
    }
  }
  row('keys kept, 1M SET 100 B through 64mb (lru)', kept.amber.keys, kept.redis.keys, 'keys');
  row('RSS then (MB)', kept.amber.rss, kept.redis.rss, 'MB');
}
