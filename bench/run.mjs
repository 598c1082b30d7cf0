#!/usr/bin/env node
// Benchmarks Amber against redis-server in the same run, as ratios (the machine is shared and
// noisy: absolute numbers mean little). Not a test. Usage:
//   npm run bench [-- --suite core,collections] [--rounds 3] [--record]
// --record appends the result table to BENCHMARKS.md with the date and commit.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : def;
};
const suites = opt('suite', 'core').split(',');
const rounds = Number(opt('rounds', '3'));
const record = args.includes('--record');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function ping(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.on('error', () => resolve(false));
  });
}

/** Starts a server ('amber' or 'redis'); resolves when it answers PING, with the start-up time. */
async function startServer(kind, extra = [], opts = {}) {
  const port = await freePort();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...extra];
  const t0 = process.hrtime.bigint();
  const proc = kind === 'redis'
    ? spawn('redis-server', common, { stdio: 'ignore' })
    : spawn(process.execPath, [join(root, 'dist/amber-server.cjs'), ...common], { stdio: 'ignore' });
  for (;;) {
    if (await ping(port)) break;
    if (proc.exitCode !== null) throw new Error(`${kind} exited at start`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const startupMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    kind, port, proc, startupMs, dir,
    /** SIGKILL; the data dir is removed unless `keep` (or the caller gave the dir) */
    async stop(keep = opts.dir !== undefined) {
      proc.kill('SIGKILL');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      // a redis-server fork child (BGSAVE, AOF rewrite) outlives its killed parent for a moment
      // and may still write into the dir: rmSync's own retries cover that (ENOTEMPTY)
      if (!keep) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** Runs redis-benchmark and returns { test: rps }. */
function benchmark(port, benchArgs) {
  const out = execFileSync('redis-benchmark', ['-p', String(port), '--csv', ...benchArgs], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const res = {};
  for (const line of out.split('\n')) {
    const m = /^"([^"]+)","([\d.]+)"/.exec(line);
    if (m) res[m[1]] = Number(m[2]);
  }
  return res;
}

function rssKb(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
}

/**
 * Loads n keys `key:<i>` (i zero-padded to `digits`; 12 is redis-benchmark's `__rand_int__`
 * format, so its -r load overwrites them) with `size`-byte values through a pipelined connection.
 */
async function loadKeys(port, n, size, digits = 10) {
  const value = 'x'.repeat(size);
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let replies = 0;
  let pending = 0;
  let resolveAll;
  const done = new Promise((r) => (resolveAll = r));
  sock.on('data', (d) => {
    for (let i = 0; i < d.length; i++) if (d[i] === 10) replies++;
    if (replies >= n) resolveAll();
  });
  const batch = 1000;
  for (let i = 0; i < n; i += batch) {
    let s = '';
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const k = 'key:' + String(j).padStart(digits, '0');
      s += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${size}\r\n${value}\r\n`;
    }
    pending++;
    if (!sock.write(s)) await new Promise((r) => sock.once('drain', r));
    while (i - replies > 50000) await new Promise((r) => setTimeout(r, 1));
  }
  await done;
  sock.destroy();
  void pending;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rows = [];
function row(name, amber, redis, unit, target) {
  const ratio = amber / redis;
  rows.push({ name, amber, redis, unit, ratio, target });
  console.log(`${name.padEnd(44)} amber ${fmt(amber)} ${unit}  redis ${fmt(redis)} ${unit}  ratio ${ratio.toFixed(2)}${target ? '  (target ' + target + ')' : ''}`);
}
const fmt = (n) => (n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

/** Throughput tests: alternating Amber and Redis, `rounds` times, medians. */
async function throughput(label, benchArgs, target, extra = {}) {
  const results = { amber: [], redis: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 ? ['redis', 'amber'] : ['amber', 'redis']) {
      const srv = await startServer(kind, extra[kind] ?? []);
      try {
        results[kind].push(benchmark(srv.port, benchArgs));
      } finally {
        await srv.stop();
      }
    }
  }
  const tests = Object.keys(results.redis[0]);
  for (const t of tests) {
    const a = median(results.amber.map((x) => x[t] ?? 0));
    const b = median(results.redis.map((x) => x[t] ?? 0));
    row(`${t} ${label}`, a, b, 'req/s', target);
  }
}

async function core() {
  console.log('# core: redis-benchmark -c 50 -n 200000 -d 100, and -P 16');
  await throughput('-c 50', ['-c', '50', '-n', '200000', '-d', '100', '-t', 'ping,set,get,incr,mset'], '>= 0.8');
  await throughput('-c 50 -P 16', ['-c', '50', '-n', '1000000', '-d', '100', '-P', '16', '-t', 'ping,set,get,incr,mset'], '>= 0.4');
  // RSS after 1,000,000 SETs of 100-byte values
  const rss = {};
  const startup = { amber: [], redis: [] };
  for (const kind of ['amber', 'redis']) {
    const srv = await startServer(kind);
    try {
      const before = rssKb(srv.proc.pid);
      await loadKeys(srv.port, 1_000_000, 100);
      await new Promise((r) => setTimeout(r, 1500));
      rss[kind] = { before, after: rssKb(srv.proc.pid) };
    } finally {
      await srv.stop();
    }
  }
  row('RSS after 1M SET of 100 B (MB)', rss.amber.after / 1024, rss.redis.after / 1024, 'MB', '<= 1.6');
  for (let r = 0; r < Math.max(3, rounds); r++) {
    for (const kind of ['amber', 'redis']) {
      const srv = await startServer(kind);
      startup[kind].push(srv.startupMs);
      await srv.stop();
    }
  }
  row('start-up to first PONG (ms)', median(startup.amber), median(startup.redis), 'ms');
}

async function collections() {
  console.log('# collections: redis-benchmark -c 50, and -P 16');
  const t = 'lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_300,lrange_600';
  await throughput('-c 50', ['-c', '50', '-n', '100000', '-t', t], '>= 0.8');
  await throughput('-c 50 -P 16', ['-c', '50', '-n', '500000', '-P', '16', '-t', t], '>= 0.4');
}

const SUITES = { core, collections };

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) {
  console.error('redis-server is not installed: the benchmark compares against it (apt-get install redis-server redis-tools)');
  process.exit(1);
}
// the bundle operators start (bin amber-server, npm start): its start-up time is theirs
if (!existsSync(join(root, 'dist/amber-server.cjs'))) {
  console.error('dist/amber-server.cjs is missing: run `npm run build` first');
  process.exit(1);
}
// Further suites live in bench/suites/<name>.mjs and export `run(ctx)`; ctx gives the helpers.
const ctx = { startServer, benchmark, throughput, row, median, rssKb, loadKeys, rounds, freePort, ping };
for (const s of suites) {
  if (SUITES[s]) {
    await SUITES[s]();
    continue;
  }
  const file = join(root, 'bench', 'suites', `${s}.mjs`);
  if (!existsSync(file)) {
    console.error(`unknown suite ${s}; known: ${Object.keys(SUITES).join(', ')} and bench/suites/*.mjs`);
    process.exit(1);
  }
  const mod = await import(file);
  await mod.run(ctx);
}

if (record) {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const date = new Date().toISOString().slice(0, 10);
  let md = `\n## ${date}, commit ${commit}, suites: ${suites.join(', ')}, ${rounds} rounds (medians)\n\n`;
  md += '| test | Amber | Redis 7.0.15 | Amber/Redis | target |\n|---|---:|---:|---:|---|\n';
  for (const r of rows) md += `| ${r.name} | ${fmt(r.amber)} ${r.unit} | ${fmt(r.redis)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''} |\n`;
  appendFileSync(join(root, 'BENCHMARKS.md'), md);
  console.log('recorded in BENCHMARKS.md');
}
