import { startAmber } from '/work/main/test/helpers/servers.ts';
import Redis from '/work/main/node_modules/ioredis/built/index.js';
const amber = await startAmber();
let seed = 7;
const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
const add: string[][] = [];
for (let i = 0; i < 2000; i++) add.push(['geoadd', 'g', (13 + rnd() * 3).toFixed(6), (37 + rnd() * 2).toFixed(6), 'm' + i]);
for (const [name, port] of [['amber', amber.port], ['redis', 7392], ['amber', amber.port], ['redis', 7392]] as const) {
  const c = new Redis(port);
  await c.flushall(); await c.pipeline(add as any).exec();
  for (const radius of ['5', '50', '500']) {
    const q = Array.from({ length: 200 }, () => ['geosearch', 'g', 'FROMLONLAT', '14', '38', 'BYRADIUS', radius, 'km', 'WITHDIST', 'WITHCOORD', 'WITHHASH', 'ASC']);
    const t = performance.now(); await c.pipeline(q as any).exec(); console.log(name, radius, (performance.now() - t).toFixed(0), 'ms');
  }
  const t = performance.now(); const q2 = Array.from({ length: 20000 }, (_, i) => ['geodist', 'g', 'm' + (i % 2000), 'm' + ((i * 7) % 2000)]); await c.pipeline(q2 as any).exec(); console.log(name, 'geodist', (performance.now() - t).toFixed(0), 'ms');
  c.disconnect();
}
await amber.close();
