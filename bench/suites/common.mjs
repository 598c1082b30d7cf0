// Helpers shared by the persistence benchmark suites.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Sends argv arrays pipelined on one connection, `window` in flight; resolves when all replied. */
export async function pipeline(port, commands, window = 20000) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let replies = 0;
  let sent = 0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  // count top-level replies: every command here answers a single-line or bulk reply
  let pending = Buffer.alloc(0);
  sock.on('data', (d) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    let p = 0;
    for (;;) {
      const nl = pending.indexOf(10, p);
      if (nl < 0) break;
      const t = pending[p];
      if (t === 36) {
        const n = Number(pending.latin1Slice(p + 1, nl - 1));
        const end = n < 0 ? nl + 1 : nl + 1 + n + 2;
        if (end > pending.length) break;
        p = end;
      } else {
        p = nl + 1;
      }
      replies++;
    }
    pending = pending.subarray(p);
    if (replies >= commands.length) resolveDone();
  });
  const enc = (argv) => {
    let s = `*${argv.length}\r\n`;
    for (const a of argv) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    return s;
  };
  while (sent < commands.length) {
    let s = '';
    const end = Math.min(commands.length, sent + 500);
    for (; sent < end; sent++) s += enc(commands[sent]);
    if (!sock.write(s)) await new Promise((r) => sock.once('drain', r));
    while (sent - replies > window) await new Promise((r) => setTimeout(r, 1));
  }
  if (commands.length === 0) resolveDone();
  await done;
  sock.destroy();
}

/** A mixed dataset: `n` keys spread over hashes, sets, zsets and lists of 100 elements. */
export function mixedCommands(n) {
  const cmds = [];
  for (let k = 0; k < n; k++) {
    const t = k % 4;
    const key = `mixed:${k}`;
    const args = [];
    for (let i = 0; i < 100; i++) {
      if (t === 0) args.push(`field${i}`, `value-${i}-${k}`);
      else if (t === 1) args.push(`member-${i}-${k}`);
      else if (t === 2) args.push(String(i * 1.5), `member-${i}`);
      else args.push(`item-${i}-${k}`);
    }
    cmds.push([['HSET', 'SADD', 'ZADD', 'RPUSH'][t], key, ...args]);
  }
  return cmds;
}

/**
 * How long the PSS baseline under a write load is watched, ms: at least one major-GC cycle of
 * Amber's heap under the redis-benchmark load (V8 lets old space grow to about twice its live
 * size before collecting: 7-12 s per cycle at 130k overwrites/s of 100-byte values), and about as
 * long as the operation measured against it.
 */
export const BASELINE_MS = 12000;

/**
 * PSS (KiB) of a server under a steady load over `ms`, sampled every 25 ms: { min, max }. A
 * garbage-collected heap swings widely between collections under a write load, so one sample is
 * no baseline: the "before" of a peak-over-before figure is the peak under the same load, over a
 * comparable time, without the operation (Redis, without a GC, barely moves).
 */
export async function steadyPss(pid, ms = 2000) {
  let min = Infinity;
  let max = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const v = pssKb(pid);
    min = Math.min(min, v);
    max = Math.max(max, v);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { min, max };
}

/** Proportional set size (KiB) of a process and its children (Redis's fork child). */
export function pssKb(pid) {
  let total = 0;
  const pids = [pid];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const ch = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (ch) pids.push(...ch.split(/\s+/).map(Number));
    }
  } catch {
    // process gone
  }
  for (const p of pids) {
    try {
      const m = /Pss:\s+(\d+)/.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch {
      // child exited meanwhile
    }
  }
  return total;
}

/** Sends one command and returns the raw reply text. */
export function call(port, ...argv) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('connect', () => {
      let q = `*${argv.length}\r\n`;
      for (const a of argv) q += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      s.write(q);
    });
    s.on('data', (d) => {
      out += d.toString('latin1');
      const bulk = /^\$(\d+)\r\n/.exec(out);
      if (!bulk || out.length >= bulk[0].length + Number(bulk[1]) + 2) {
        s.destroy();
        resolve(out);
      }
    });
    s.on('error', reject);
  });
}

/** Waits until INFO persistence shows `field:0` (a save or rewrite finished); returns ms waited. */
export async function waitInfo(port, field, onTick) {
  const t0 = Date.now();
  for (;;) {
    const info = await call(port, 'INFO', 'persistence');
    if (info.includes(`${field}:0`)) return Date.now() - t0;
    if (onTick) onTick();
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A write load as the issues specify it: `redis-benchmark -t set -r <keyspace> -d <size> -P <depth>
 * -c <conns>`, in its own process (a load generator inside this process would be starved by the
 * PSS sampling it runs between polls, and would measure itself). It overwrites the keys
 * `key:%012d` that {@link loadKeys} with `digits = 12` creates. Returns:
 * - `rate(fromMs, toMs)`: requests/s over a Date.now() window, from redis-benchmark's per-250-ms
 *   `rps=` reports weighted by their overlap with the window (waits for the report covering
 *   `toMs`, at most 1 s);
 * - `ops()`: requests acknowledged so far (the same reports, summed);
 * - `stop()`: kills redis-benchmark (its own PID).
 */
export async function writeLoad(port, { conns = 50, depth = 16, keyspace = 1_000_000, size = 100 } = {}) {
  const proc = spawn('redis-benchmark', ['-p', String(port), '-t', 'set', '-r', String(keyspace), '-d', String(size),
    '-P', String(depth), '-c', String(conns), '-n', '2000000000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  // each report covers (previous report, this one]
  const reports = [];
  let last = Date.now();
  let text = '';
  proc.stdout.on('data', (d) => {
    text += d.toString('latin1');
    const parts = text.split('\r');
    text = parts.pop();
    for (const line of parts) {
      const m = /rps=([\d.]+)/.exec(line);
      if (!m) continue;
      const now = Date.now();
      reports.push({ from: last, to: now, rps: Number(m[1]) });
      last = now;
    }
  });
  // the first report comes after redis-benchmark connected its clients
  for (let i = 0; i < 200 && reports.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  if (reports.length < 2) {
    proc.kill('SIGKILL');
    throw new Error('redis-benchmark printed no throughput reports');
  }
  return {
    ops: () => reports.reduce((n, r) => n + (r.rps * (r.to - r.from)) / 1000, 0),
    async rate(fromMs, toMs) {
      for (let i = 0; i < 100 && reports[reports.length - 1].to < toMs; i++) await new Promise((r) => setTimeout(r, 10));
      let ops = 0;
      for (const r of reports) {
        const overlap = Math.min(r.to, toMs) - Math.max(r.from, fromMs);
        if (overlap > 0) ops += (r.rps * overlap) / 1000;
      }
      return ops / ((toMs - fromMs) / 1000);
    },
    stop() {
      proc.kill('SIGKILL');
    },
  };
}
