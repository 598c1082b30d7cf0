import { Redis } from 'ioredis';
const a = { port: Number(process.env.P), close: async () => {} };
const mk = () => new Redis({ port: a.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
const sub = mk(), pub = mk();
const got: string[] = [];
sub.on('message', (ch: string, msg: string) => got.push(`message ${ch} ${msg}`));
sub.on('smessage', (ch: string, msg: string) => got.push(`smessage ${ch} ${msg}`));
console.log(await sub.subscribe('news', 'sport'), await sub.psubscribe('n*'), await sub.ssubscribe('shard'));
console.log(await pub.publish('news', 'hello'), await pub.spublish('shard', 's1'));
console.log(await pub.pubsub('NUMSUB', 'news', 'sport', 'none'), await pub.pubsub('NUMPAT'), await pub.pubsub('CHANNELS', '*'));
try { await sub.call('GET', 'x'); } catch (e) { console.log('rejected', (e as Error).message); }
console.log('unsub', await sub.unsubscribe());
console.log('punsub', await sub.punsubscribe());
console.log('sunsub', await Promise.race([sub.sunsubscribe(), new Promise((r) => setTimeout(() => r('TIMEOUT'), 2000))]));
console.log(got);
sub.disconnect(); pub.disconnect(); await a.close();
