// Writes dist/amber-server-bundle.cjs.cache, the V8 code cache that dist/amber-server.cjs starts the
// server bundle from (src/bootstrap.ts), at the end of `npm run build`.
//
// The cache holds the functions a run has compiled, so it is taken from a short run of the real
// server that goes through what a start-up goes through: run 1 fills a LevelDB store and a
// dump.rdb in a temporary dir with every data type (small and big encodings, long repetitive
// values that LZF compresses); run 2 starts on that store (the LevelDB load), loads the dump
// (DEBUG RELOAD: the RDB decoder), saves (the encoder) and serves the same commands, and writes
// the cache as it exits. Each run is on a free loopback port, bounded in time, and stopped by its
// own PID. Any failure only leaves the build without a cache: amber-server then starts as any
// script does, a few tens of milliseconds slower, with the same behaviour.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'amber-server.cjs');
const cache = join(dist, 'amber-server-bundle.cjs.cache');
/** Each run, start to exit, ms. */
const RUN_TIMEOUT_MS = 30_000;

/** The commands of both runs: every type, in its small and its big encoding. */
function workload() {
  const big = (n, f) => Array.from({ length: n }, (_, i) => f(i));
  const pad = (i) => `element-${String(i).padStart(6, '0')}-${'x'.repeat(24)}`;
  return [
    ['SET', 's', 'value'], ['SET', 'n', '12345'], ['INCR', 'n'], ['INCRBYFLOAT', 'f', '1.5'], ['APPEND', 's', '-more'],
    ['GETRANGE', 's', '0', '-1'], ['SETRANGE', 's', '2', 'yy'], ['MSET', 'a', '1', 'b', '2', 'long', pad(1)], ['MGET', 'a', 'b', 'c'],
    ['SETEX', 't', '1000', 'v'], ['EXPIRE', 'a', '1000'], ['PEXPIRE', 'b', '100000'], ['TTL', 'a'], ['PERSIST', 'b'], ['GET', 's'],
    ['HSET', 'h', 'f1', 'v1', 'f2', 'v2', 'f3', pad(3)], ['HGET', 'h', 'f1'], ['HGETALL', 'h'], ['HINCRBY', 'h', 'c', '2'], ['HDEL', 'h', 'f2'],
    ['HSET', 'hb', ...big(200, (i) => [`field${i}`, pad(i)]).flat()],
    ['SADD', 'si', '1', '2', '3'], ['SADD', 'ss', 'a', 'b', pad(0)], ['SADD', 'sb', ...big(600, pad)], ['SMEMBERS', 'ss'], ['SISMEMBER', 'ss', 'a'],
    ['SREM', 'si', '2'], ['SCARD', 'sb'],
    ['ZADD', 'z', '1', 'a', '2', 'b', '3', pad(2)], ['ZADD', 'zb', ...big(200, (i) => [String(i / 3), pad(i)]).flat()],
    ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZSCORE', 'z', 'a'], ['ZINCRBY', 'z', '1', 'a'], ['ZREM', 'z', 'b'],
    ['RPUSH', 'l', 'a', 'b', pad(4)], ['LPUSH', 'l', 'z'], ['LRANGE', 'l', '0', '-1'], ['LPOP', 'l'], ['RPUSH', 'lb', ...big(1000, pad)], ['LINDEX', 'lb', '500'],
    ['XADD', 'x', '*', 'f', 'v'], ['XADD', 'x', '*', 'f', pad(5)], ['XGROUP', 'CREATE', 'x', 'g', '0'],
    ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'x', '>'], ['XRANGE', 'x', '-', '+'], ['XLEN', 'x'],
    ['PFADD', 'hll', 'a', 'b', 'c'], ['PFCOUNT', 'hll'], ['SETBIT', 'bits', '100', '1'], ['BITCOUNT', 'bits'],
    ['GEOADD', 'geo', '13.361389', '38.115556', 'p'], ['SELECT', '1'], ['SET', 'k1', 'v'], ['SELECT', '0'],
    ['DBSIZE'], ['INFO'], ['SCAN', '0'], ['KEYS', '*'], ['TYPE', 'h'], ['OBJECT', 'ENCODING', 'hb'], ['EXISTS', 'b'],
    ['RENAME', 't', 't2'], ['DEL', 'a'], ['CONFIG', 'GET', 'save'], ['CLIENT', 'SETNAME', 'build'], ['PING'],
  ];
}

/** A free loopback port (bound, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** End of the RESP reply starting at `p` of `buf`, or -1 when it is not all there yet. */
function replyEnd(buf, p) {
  if (p >= buf.length) return -1;
  const nl = buf.indexOf('\r\n', p);
  if (nl < 0) return -1;
  const type = String.fromCharCode(buf[p]);
  if (type === '$') {
    const len = Number(buf.toString('latin1', p + 1, nl));
    if (len < 0) return nl + 2;
    return buf.length >= nl + 2 + len + 2 ? nl + 2 + len + 2 : -1;
  }
  if (type === '*') {
    const n = Number(buf.toString('latin1', p + 1, nl));
    let q = nl + 2;
    for (let i = 0; i < n; i++) {
      q = replyEnd(buf, q);
      if (q < 0) return -1;
    }
    return q;
  }
  return nl + 2;
}

/** Sends each command and waits for its reply, in order; resolves with the replies' first lines. */
function converse(port, commands) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let i = 0;
    const firsts = [];
    const send = () => {
      const argv = commands[i];
      sock.write(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    };
    sock.on('connect', send);
    sock.on('error', reject);
    // SHUTDOWN's answer is the connection closing
    sock.on('close', () => reject(new Error(`the connection closed after ${i} of ${commands.length} replies`)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = replyEnd(buf, 0);
      if (end < 0) return;
      firsts.push(buf.toString('latin1', 0, buf.indexOf('\r\n')));
      buf = buf.subarray(end);
      if (++i === commands.length) {
        sock.end();
        resolve(firsts);
      } else send();
    });
  });
}

/**
 * One run of the server on `dir` (with `extra` directives): waits for it to answer PING, sends
 * `commands`, shuts it down with SHUTDOWN NOSAVE and waits for it to exit. With `cacheOut`, the
 * server writes its code cache there as it exits.
 */
async function run(dir, extra, commands, cacheOut) {
  const port = await freePort();
  const env = { ...process.env };
  if (cacheOut) env.AMBER_CODE_CACHE_OUT = cacheOut;
  else delete env.AMBER_CODE_CACHE_OUT;
  const child = spawn(process.execPath, [entry, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--enable-debug-command', 'yes', '--loglevel', 'warning', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  try {
    for (;;) {
      try {
        const [pong] = await converse(port, [['PING']]);
        if (pong === '+PONG') break;
      } catch {
        // not listening yet
      }
      const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 20))]);
      if (early !== undefined) throw new Error(`the server exited (${early}) before answering: ${stderr.trim().split('\n').pop() ?? ''}`);
    }
    const replies = await converse(port, commands);
    const errors = replies.filter((r) => r.startsWith('-'));
    if (errors.length > 0) throw new Error(`the server answered ${errors[0]}`);
    await converse(port, [['SHUTDOWN', 'NOSAVE']]).catch(() => undefined);
    const how = await exited;
    if (how !== 0) throw new Error(`the server exited with ${how}`);
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Both runs with the engine options `engine` (LevelDB, or none where LevelDB cannot run). */
async function train(engine) {
  const dir = mkdtempSync(join(tmpdir(), 'amber-code-cache-'));
  try {
    await run(dir, engine, [...workload(), ['SAVE']], null);
    await run(dir, engine, [['DBSIZE'], ['DEBUG', 'RELOAD'], ['FLUSHALL'], ...workload(), ['SAVE']], cache);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// the caches of an earlier build never outlive it (those of other Node options too, which
// servers started with such options write beside it: bootstrap.ts), nor do those of the bundle's
// earlier name, amber-server.cjs
for (const f of readdirSync(dist)) if (/^amber-server(?:-bundle)?\.cjs\.(?:[0-9a-f]{16}\.)?cache$/.test(f)) rmSync(join(dist, f), { force: true });
try {
  try {
    await train(['--leveldb', 'yes']);
  } catch (e) {
    console.warn(`code-cache: a run with LevelDB failed (${e.message}); trying without it`);
    await train([]);
  }
  if (!existsSync(cache)) throw new Error('the server exited without writing it');
} catch (e) {
  rmSync(cache, { force: true });
  console.warn(`code-cache: no code cache written (${e.message}): amber-server starts without one, a few tens of milliseconds slower, with the same behaviour`);
}
