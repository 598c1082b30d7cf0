// Helpers shared by the persistence benchmark suites.
import net from 'node:net';
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
 * A write load: `conns` connections each keeping `depth` SETs of random keys (of `keyspace`) with
 * `size`-byte values in flight. Returns { ops(), stop() }: acknowledged operations so far.
 */
export async function writeLoad(port, { conns = 4, depth = 16, keyspace = 1_000_000, size = 100 } = {}) {
  let ops = 0;
  let stopped = false;
  const value = 'x'.repeat(size);
  const socks = [];
  for (let i = 0; i < conns; i++) {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    socks.push(sock);
    let inflight = 0;
    const send = () => {
      if (stopped) return;
      let s = '';
      while (inflight < depth) {
        const k = 'key:' + String(Math.floor(Math.random() * keyspace)).padStart(10, '0');
        s += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${size}\r\n${value}\r\n`;
        inflight++;
      }
      sock.write(s);
    };
    sock.on('data', (d) => {
      for (let j = 0; j < d.length; j++) {
        if (d[j] === 10) {
          inflight--;
          ops++;
        }
      }
      send();
    });
    sock.on('error', () => undefined);
    send();
  }
  return {
    ops: () => ops,
    stop() {
      stopped = true;
      for (const s of socks) s.destroy();
    },
  };
}
