// Streams and pub/sub fan-out against redis-server, in the same run (bench/run.mjs --suite streams):
// - PUBLISH to 1, 10 and 100 subscribers: messages delivered per second, measured with our own
//   loopback clients (a pipelining publisher, raw subscriber sockets counting fixed-size frames);
// - XADD s * f v (redis-benchmark -c 50, and -P 16);
// - XRANGE of 100 entries (a 1000-entry stream, XRANGE s - + COUNT 100);
// - XREADGROUP GROUP g c COUNT 1 STREAMS s > over a preloaded stream (each read delivers one
//   entry and adds it to the PEL);
// - memory per stream entry (RSS growth over 500,000 XADDs of 10-byte values).
// Each measurement alternates Amber and Redis, `rounds` times, and reports medians.
import net from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function resp(argv) {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/** Sends `cmds` pipelined in batches and waits for one reply line per command (simple replies only). */
async function pipelineSimple(port, cmds, batch = 1000) {
  const sock = await connect(port);
  let lines = 0;
  let want = 0;
  let wake = null;
  sock.on('data', (d) => {
    for (let i = 0; i < d.length; i++) if (d[i] === 10) lines++;
    if (wake && lines >= want) wake();
  });
  for (let i = 0; i < cmds.length; i += batch) {
    const part = cmds.slice(i, i + batch);
    sock.write(part.map(resp).join(''));
    want += part.length * part[0].lineCount;
    await new Promise((r) => {
      wake = r;
      if (lines >= want) r();
    });
  }
  sock.destroy();
}

/** XADDs `n` entries with explicit increasing IDs (each reply is a bulk string: 2 lines). */
async function preloadStream(port, key, n, value = 'v') {
  const cmds = [];
  for (let i = 1; i <= n; i++) {
    const c = ['XADD', key, `${i}-0`, 'f', value];
    c.lineCount = 2;
    cmds.push(c);
  }
  await pipelineSimple(port, cmds);
}

/**
 * Publish fan-out: `subs` subscribers on one channel, a publisher pipelining `messages` PUBLISHes
 * with at most `window` outstanding; returns messages delivered per second (messages * subs /
 * time until every subscriber got every message).
 */
async function fanout(port, subs, messages, window = 500) {
  const channel = 'bench-channel';
  const payload = 'x'.repeat(32);
  const frame = resp(['message', channel, payload]);
  const frameLen = Buffer.byteLength(frame);
  const sockets = [];
  let done = 0;
  let allDone;
  const finished = new Promise((r) => (allDone = r));
  for (let i = 0; i < subs; i++) {
    const s = await connect(port);
    let bytes = 0;
    let subscribed = false;
    s.on('data', (d) => {
      if (!subscribed) {
        // the subscribe confirmation: *3 $9 subscribe $<n> channel :1
        const text = d.latin1Slice(0, d.length);
        const end = text.indexOf(':1\r\n');
        if (end < 0) return;
        subscribed = true;
        d = d.subarray(end + 4);
      }
      bytes += d.length;
      if (bytes >= messages * frameLen) {
        done++;
        s.removeAllListeners('data');
        if (done === subs) allDone();
      }
    });
    s.write(resp(['SUBSCRIBE', channel]));
    sockets.push(s);
  }
  await sleep(100);
  const pub = await connect(port);
  let acked = 0;
  let waiters = [];
  pub.on('data', (d) => {
    for (let i = 0; i < d.length; i++) if (d[i] === 10) acked++;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  const cmd = resp(['PUBLISH', channel, payload]);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < messages) {
    const n = Math.min(100, messages - sent);
    pub.write(cmd.repeat(n));
    sent += n;
    while (sent - acked > window) await new Promise((r) => waiters.push(r));
  }
  await Promise.race([finished, sleep(60000)]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  pub.destroy();
  for (const s of sockets) s.destroy();
  if (done < subs) throw new Error(`fan-out to ${subs}: only ${done} subscribers got every message`);
  return (messages * subs) / secs;
}

export async function run(ctx) {
  const { startServer, benchmark, row, median, rounds, rssKb } = ctx;
  console.log('# streams: PUBLISH fan-out, XADD, XRANGE of 100, XREADGROUP, memory per entry');

  /** Runs `measure(port)` on fresh servers, alternating kinds, and returns medians. */
  async function compare(measure) {
    const res = { amber: [], redis: [] };
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 ? ['redis', 'amber'] : ['amber', 'redis']) {
        const srv = await startServer(kind);
        try {
          res[kind].push(await measure(srv.port, srv));
        } finally {
          await srv.stop();
        }
      }
    }
    return { amber: median(res.amber), redis: median(res.redis) };
  }

  for (const [subs, messages] of [[1, 200000], [10, 50000], [100, 10000]]) {
    const m = await compare((port) => fanout(port, subs, messages));
    row(`PUBLISH fan-out to ${subs} subscriber${subs > 1 ? 's' : ''} (msg/s delivered)`, m.amber, m.redis, 'msg/s', '>= 0.7');
  }

  for (const [label, extra] of [['-c 50', []], ['-c 50 -P 16', ['-P', '16']]]) {
    const n = extra.length ? 1000000 : 200000;
    const m = await compare((port) => {
      const r = benchmark(port, ['-c', '50', '-n', String(n), ...extra, 'XADD', 's', '*', 'f', 'v']);
      return Object.values(r)[0] ?? 0;
    });
    row(`XADD s * f v ${label}`, m.amber, m.redis, 'req/s', '>= 0.7');
  }

  {
    const m = await compare(async (port) => {
      await preloadStream(port, 's', 1000, 'value-0123');
      const r = benchmark(port, ['-c', '50', '-n', '50000', 'XRANGE', 's', '-', '+', 'COUNT', '100']);
      return Object.values(r)[0] ?? 0;
    });
    row('XRANGE s - + COUNT 100 -c 50', m.amber, m.redis, 'req/s', '>= 0.7');
  }

  {
    const n = 100000;
    const m = await compare(async (port) => {
      await preloadStream(port, 's', n + 1000, 'value-0123');
      const g = [['XGROUP', 'CREATE', 's', 'g', '0']];
      g[0].lineCount = 1;
      await pipelineSimple(port, g);
      const r = benchmark(port, ['-c', '50', '-n', String(n), 'XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>']);
      return Object.values(r)[0] ?? 0;
    });
    row('XREADGROUP COUNT 1 > (with PEL) -c 50', m.amber, m.redis, 'req/s', '>= 0.7');
  }

  {
    const n = 500000;
    const m = await compare(async (port, srv) => {
      const before = rssKb(srv.proc.pid);
      await preloadStream(port, 'mem', n, '0123456789');
      await sleep(1000);
      return ((rssKb(srv.proc.pid) - before) * 1024) / n;
    });
    row('memory per stream entry (RSS growth / entry)', m.amber, m.redis, 'B');
  }
}
