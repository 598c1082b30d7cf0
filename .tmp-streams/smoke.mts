import { startAmber, startRedis, RawClient } from '../test/helpers/servers.ts';
const amber = await startAmber();
const redis = await startRedis();
const cmds: string[][] = JSON.parse(process.argv[2]!);
const a = await RawClient.connect(amber.port);
const r = await RawClient.connect(redis.port);
for (const cmd of cmds) {
  const ra = await a.call(...cmd);
  const rr = await r.call(...cmd);
  const same = ra === rr;
  console.log((same ? 'OK   ' : 'DIFF ') + cmd.join(' ') + (same ? '  ' + JSON.stringify(ra).slice(0, 100) : '\n  amber: ' + JSON.stringify(ra) + '\n  redis: ' + JSON.stringify(rr)));
}
a.close(); r.close();
await amber.close(); await redis.close();
process.exit(0);
