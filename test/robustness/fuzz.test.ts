/**
 * Robustness fuzz, bounded in time (about 15 s in all) and count, seeded so a failure reproduces:
 * `FUZZ_SEED=<n> node test/run.mjs robustness/fuzz`.
 *
 * 1. Random bytes, half-valid RESP and inline lines are fed to the request parser over several
 *    sockets; the server must answer with well-formed RESP (a protocol error closes the
 *    connection) and keep answering PING on another connection throughout.
 * 2. Random argv for every command and subcommand of the command table, built from the key
 *    positions and option tokens of Redis's own command docs, over several connections and
 *    against keys of every type. Every reply must be complete, well-formed RESP with a proper
 *    error line, and the server must keep answering PING. Commands that would stop the server,
 *    the test or its clients (SHUTDOWN, FLUSHALL, DEBUG SLEEP and POPULATE, CLIENT PAUSE/KILL/REPLY, MONITOR,
 *    SUBSCRIBE, blocking commands, replication, persistence to disk, CONFIG SET) are skipped.
 *
 * Handler exceptions (caught by dispatch as `ERR internal error while running ...`) are reported as
 * diagnostics with their argv; FUZZ_STRICT=1 makes them failures.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startAmber, RawClient, replyEnd } from '../helpers/servers.js';
import { prng } from '../helpers/prng.js';
import type { RunningServer } from '../../src/index.js';
import type { CommandSpec } from '../../src/commands/spec.js';
import type { ReplyNode } from '../../src/protocol/reply.js';

/** No RDB save points: these servers must not write dump.rdb into the working directory on close. */
const NO_SAVE = { save: '' };

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2147483647;
const STRICT = process.env.FUZZ_STRICT === '1';


let amber: RunningServer;
let pinger: RawClient;
let pingFailures = 0;
let pingTimer: NodeJS.Timeout | null = null;
let maxPingMs = 0;

before(async () => {
  amber = await startAmber({ ...NO_SAVE, 'proto-max-bulk-len': '1mb', 'client-query-buffer-limit': '1mb' });
  pinger = await RawClient.connect(amber.port);
  // a PING every 50 ms on its own connection: each must come back within 2 s
  let inFlight = false;
  pingTimer = setInterval(() => {
    if (inFlight) return;
    inFlight = true;
    const t0 = Date.now();
    const timeout = setTimeout(() => { pingFailures++; }, 2000);
    pinger.call('PING').then((r) => {
      clearTimeout(timeout);
      maxPingMs = Math.max(maxPingMs, Date.now() - t0);
      if (r !== '+PONG\r\n') pingFailures++;
      inFlight = false;
    }, () => {
      clearTimeout(timeout);
      pingFailures++;
      inFlight = false;
    });
  }, 50);
});

after(async () => {
  if (pingTimer) clearInterval(pingTimer);
  pinger?.close();
  await amber?.close();
});

const VALID_TYPES = new Set('+-:$*_,#!=(%~>|'.split(''));

/** Checks one complete reply; returns a problem description or null. */
function checkReply(r: string): string | null {
  if (!VALID_TYPES.has(r[0]!)) return `bad reply type byte ${JSON.stringify(r.slice(0, 40))}`;
  if (r[0] === '-') {
    if (!/^-[A-Z][A-Z0-9_]*[ \r]/.test(r)) return `error without an upper-case code: ${JSON.stringify(r.slice(0, 80))}`;
    const body = r.slice(1, -2);
    if (body.includes('\r') || body.includes('\n') || !r.endsWith('\r\n')) return `error spans lines: ${JSON.stringify(r.slice(0, 80))}`;
  }
  return null;
}

/** Splits a byte stream into complete replies; the rest is returned as incomplete. */
function splitReplies(buf: Buffer): { replies: string[]; rest: number } {
  const replies: string[] = [];
  let pos = 0;
  for (;;) {
    const end = replyEnd(buf, pos);
    if (end < 0) break;
    replies.push(buf.latin1Slice(pos, end));
    pos = end;
  }
  return { replies, rest: buf.length - pos };
}

// ---- 1. parser fuzz ------------------------------------------------------------------------------

function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Input that looks like RESP or inline commands, mutated. */
function randomRequest(rnd: () => number): Buffer {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const num = (): string => pick(['0', '1', '2', '-1', '-2', '3', '10', '1024', '2147483648', '9223372036854775808', 'x', '', ' 1', '+1', '1048577', '99999999999']);
  const word = (): string => pick(['PING', 'ECHO', 'GET', 'SET', 'x', '"', "'", '"a\\x4', "'\\'", '\\', '""', 'a"b', '\x00', '\t', ' ', 'k']);
  switch (Math.floor(rnd() * 6)) {
    case 0: return randomBytes(rnd, 1 + Math.floor(rnd() * 64));
    case 1: { // multibulk with random header and lengths
      let s = '*' + num() + '\r\n';
      const n = Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) {
        const body = word();
        s += (rnd() < 0.8 ? '$' : pick(['!', '%', ':', '+'])) + (rnd() < 0.7 ? String(body.length) : num()) + '\r\n' + body + (rnd() < 0.9 ? '\r\n' : 'xx');
      }
      return Buffer.from(s, 'latin1');
    }
    case 2: { // inline line with quotes and escapes
      const n = 1 + Math.floor(rnd() * 5);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(word());
      return Buffer.from(parts.join(pick([' ', '  ', '\t'])) + pick(['\r\n', '\n', '']), 'latin1');
    }
    case 3: return Buffer.from(pick(['*', '$', '\r\n', '\n', '*-1\r\n', '*0\r\n', '$-1\r\n', '*1\r\n$-5\r\n', '*3000000\r\n', '\r\r\n']), 'latin1');
    case 4: return Buffer.concat([Buffer.from('*2\r\n$4\r\nECHO\r\n$', 'latin1'), randomBytes(rnd, 8)]);
    default: return Buffer.from('PING\r\n', 'latin1');
  }
}

test(`parser fuzz: random and malformed requests (seed ${SEED})`, { timeout: 20_000 }, async (t) => {
  t.diagnostic(`seed ${SEED}`);
  const rnd = prng(SEED);
  const deadline = Date.now() + 6000;
  const problems: string[] = [];
  let sent = 0;
  const worker = async (w: number): Promise<void> => {
    while (Date.now() < deadline && sent < 4000) {
      const sock = net.connect(amber.port, '127.0.0.1');
      let buf = Buffer.alloc(0);
      let closed = false;
      sock.on('data', (d) => { buf = Buffer.concat([buf, d]); });
      sock.on('error', () => undefined);
      const closedP = new Promise<void>((res) => sock.on('close', () => { closed = true; res(); }));
      // a refused or reset connection must not stall the worker
      await new Promise<void>((res) => {
        sock.once('connect', () => res());
        sock.once('close', () => res());
      });
      const chunks = 1 + Math.floor(rnd() * 12);
      for (let i = 0; i < chunks && !closed; i++) {
        sock.write(randomRequest(rnd));
        sent++;
        if (rnd() < 0.3) await new Promise((r) => setTimeout(r, 1));
      }
      // end with a PING so a connection that is still usable proves it answers
      if (!closed) sock.write('\r\n*1\r\n$4\r\nPING\r\n');
      await Promise.race([closedP, new Promise((r) => setTimeout(r, 150))]);
      sock.destroy();
      const { replies } = splitReplies(buf);
      for (const r of replies) {
        const p = checkReply(r);
        if (p) problems.push(`worker ${w}: ${p}`);
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
  assert.deepEqual(problems.slice(0, 5), [], `seed ${SEED}`);
  assert.equal(pingFailures, 0, `PING failed during the parser fuzz (seed ${SEED})`);
  assert.equal(await pinger.call('PING'), '+PONG\r\n');
  t.diagnostic(`${sent} chunks sent, slowest PING ${maxPingMs} ms`);
});

// ---- 2. command fuzz -----------------------------------------------------------------------------

/** Commands never sent: they stop the server, the test's clients, or write outside the test. */
const SKIP = new Set([
  'shutdown', 'flushall', 'monitor', 'client|pause', 'client|kill', 'client|reply',
  'subscribe', 'psubscribe', 'ssubscribe', 'wait', 'replicaof', 'slaveof', 'sync', 'psync', 'failover', 'migrate',
  'save', 'bgsave', 'bgrewriteaof', 'config|set', 'config|rewrite', 'module', 'acl', 'cluster',
  // PFSELFTEST runs seconds of CPU by design (like DEBUG SLEEP); BACKUP writes to a given path
  'pfselftest', 'backup',
]);

/** Commands that answer once per argument. */
const MULTI_REPLY = new Set(['unsubscribe', 'punsubscribe', 'sunsubscribe']);

/** Option tokens (EX, WITHSCORES, LIMIT...) of a command, from its COMMAND DOCS arguments. */
function docTokens(docs: ReplyNode): string[] {
  const out = new Set<string>();
  const walk = (n: ReplyNode): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
    } else if (n !== null && typeof n === 'object' && 'map' in n) {
      const m = n.map;
      for (let i = 0; i < m.length; i += 2) {
        if (m[i] === 'token' && typeof m[i + 1] === 'string') out.add(m[i + 1] as string);
        if (m[i] === 'arguments') walk(m[i + 1]!);
      }
    }
  };
  if (docs !== null && typeof docs === 'object' && !Array.isArray(docs) && 'map' in docs) {
    const i = docs.map.indexOf('arguments');
    if (i >= 0) walk(docs.map[i + 1]!);
  }
  return [...out];
}

const KEYS = ['fz:str', 'fz:int', 'fz:list', 'fz:hash', 'fz:set', 'fz:zset', 'fz:stream', 'fz:none', 'fz:new', '{t}a', '{t}b'];
const NUMBERS = ['0', '1', '-1', '2', '3', '5', '10', '100', '1000', '-5', '1.5', '-0.5', '3.0e2', 'inf', '-inf', '+inf', 'nan',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', '18446744073709551616', '0x10', '', ' 1', '01', '-', '(1', '[a', '-0'];

function randomString(rnd: () => number): string {
  const n = rnd() < 0.05 ? 500 + Math.floor(rnd() * 1500) : Math.floor(rnd() * 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rnd();
    s += String.fromCharCode(r < 0.7 ? 97 + Math.floor(rnd() * 26) : r < 0.85 ? 48 + Math.floor(rnd() * 10) : Math.floor(rnd() * 256));
  }
  return s;
}

/** DEBUG subcommands safe to fuzz (not SLEEP, POPULATE with a huge count, RELOAD, crashes, nor ERROR whose reply is any text). */
const DEBUG_SAFE = ['OBJECT', 'PROTOCOL', 'LOG', 'HELP', 'CHANGE-REPL-ID', 'JMAP', 'DIGEST-VALUE', 'LISTPACK', 'QUICKLIST', 'SDSLEN'];

function randomArgv(rnd: () => number, spec: CommandSpec, tokens: string[]): string[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const caseMix = (s: string): string => (rnd() < 0.3 ? s.toLowerCase() : s);
  if (spec.fullName === 'debug') {
    const argv = ['DEBUG', caseMix(pick(DEBUG_SAFE))];
    const n = Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) argv.push(rnd() < 0.5 ? pick(KEYS) : pick(['string', 'map', 'push', 'attrib', 'bignum', 'x', ...NUMBERS]));
    return argv;
  }
  const argv = spec.parent ? [caseMix(spec.parent.name.toUpperCase()), caseMix(spec.name.toUpperCase())] : [caseMix(spec.name.toUpperCase())];
  const arity = spec.arity;
  let total = arity > 0 ? arity : -arity + Math.floor(rnd() * 7);
  if (rnd() < 0.1) total = Math.max(1, total + Math.floor(rnd() * 5) - 2);
  for (let i = argv.length; i < total; i++) {
    const isKey = spec.firstKey > 0 && i >= spec.firstKey && (spec.lastKey < 0 || i <= spec.lastKey);
    const r = rnd();
    if (isKey && r < 0.85) argv.push(pick(KEYS));
    else if (tokens.length && r < 0.45) argv.push(caseMix(pick(tokens)));
    else if (r < 0.75) argv.push(pick(NUMBERS));
    else if (r < 0.85) argv.push(pick(KEYS));
    else argv.push(randomString(rnd));
  }
  return argv;
}

/** A command connection: sends one command and waits for one complete reply. */
class FuzzConn {
  private buf = Buffer.alloc(0);
  private waiter: ((r: string | null) => void) | null = null;
  closed = false;
  /** deliver RESP3 push frames too (the (P|S)UNSUBSCRIBE confirmations of a RESP3 client) */
  keepPushes = false;
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.deliver();
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.(null);
      this.waiter = null;
    });
    sock.on('error', () => undefined);
  }

  static connect(port: number): Promise<FuzzConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new FuzzConn(s)));
      s.once('error', reject);
    });
  }

  private deliver(): void {
    if (!this.waiter) return;
    let end = replyEnd(this.buf, 0);
    // RESP3 push frames (tracking invalidations) are not replies: drop them unless asked for
    while (!this.keepPushes && end > 0 && this.buf[0] === 0x3e) {
      this.buf = this.buf.subarray(end);
      end = replyEnd(this.buf, 0);
    }
    if (end < 0) return;
    const r = this.buf.latin1Slice(0, end);
    this.buf = this.buf.subarray(end);
    const w = this.waiter;
    this.waiter = null;
    w(r);
  }

  /**
   * Sends `argv` then `ECHO <nonce>` and returns the replies that came before the nonce's: exactly
   * one for a well-behaved command. Null when the connection closed, 'TIMEOUT' after `ms`.
   */
  async callSynced(argv: string[], nonce: string, ms: number): Promise<string[] | null | 'TIMEOUT'> {
    const want = '$' + nonce.length + '\r\n' + nonce + '\r\n';
    const out: string[] = [];
    this.sock.write(Buffer.from(RawClient.encode(argv) + RawClient.encode(['ECHO', nonce]), 'latin1'));
    const end = Date.now() + ms;
    for (;;) {
      const r = await this.next(Math.max(1, end - Date.now()));
      if (r === null || r === 'TIMEOUT') return r;
      if (r === want) return out;
      out.push(r);
    }
  }

  private next(ms: number): Promise<string | null> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve(null);
        return;
      }
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve('TIMEOUT');
      }, ms);
      this.waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.deliver();
    });
  }

  /** The reply, null when the connection closed, 'TIMEOUT' after `ms`. */
  call(argv: string[], ms: number): Promise<string | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve('TIMEOUT');
      }, ms);
      this.waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.sock.write(Buffer.from(RawClient.encode(argv), 'latin1'));
      this.deliver();
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

test(`command fuzz: random argv for every command and subcommand (seed ${SEED})`, { timeout: 25_000 }, async (t) => {
  t.diagnostic(`seed ${SEED}`);
  const rnd = prng(SEED ^ 0x5bd1e995);
  const server = amber.server;
  const specs: Array<{ spec: CommandSpec; tokens: string[] }> = [];
  for (const spec of server.commands.values()) {
    if (spec.subcommands) {
      for (const sub of spec.subcommands.values()) {
        if (!SKIP.has(sub.fullName) && !SKIP.has(spec.fullName) && !sub.isBlocking) specs.push({ spec: sub, tokens: docTokens(sub.docs) });
      }
    } else if (!SKIP.has(spec.fullName) && !spec.isBlocking) {
      specs.push({ spec, tokens: docTokens(spec.docs) });
    }
  }
  // seed data of every type through whatever commands exist
  const setup = await FuzzConn.connect(amber.port);
  for (const argv of [
    ['SET', 'fz:str', 'hello'], ['SET', 'fz:int', '42'], ['RPUSH', 'fz:list', 'a', 'b', '1', '2'], ['HSET', 'fz:hash', 'f', 'v', 'n', '1'],
    ['SADD', 'fz:set', 'a', 'b', '3'], ['ZADD', 'fz:zset', '1', 'a', '2', 'b'], ['XADD', 'fz:stream', '*', 'f', 'v'],
  ]) await setup.call(argv, 2000);
  setup.close();

  const deadline = Date.now() + 9000;
  const maxCommands = 20000;
  let sent = 0;
  const problems: string[] = [];
  const internal: string[] = [];
  const worker = async (w: number): Promise<void> => {
    let conn = await FuzzConn.connect(amber.port);
    let inMulti = false;
    // every command once in table order first, then at random
    let i = w;
    while (Date.now() < deadline && sent < maxCommands && problems.length === 0) {
      const entry = i < specs.length * 2 ? specs[Math.floor(i / 2) % specs.length]! : specs[Math.floor(rnd() * specs.length)]!;
      i += 4;
      // like Redis, EXEC's array counts a queued UNSUBSCRIBE a b c as one reply but holds three:
      // keep them out of transactions so replies can be counted
      if (inMulti && MULTI_REPLY.has(entry.spec.fullName)) continue;
      const argv = randomArgv(rnd, entry.spec, entry.tokens);
      sent++;
      const shown = JSON.stringify(argv.map((a) => (a.length > 60 ? a.slice(0, 60) + '...' : a)));
      const name = entry.spec.fullName;
      let replies: string[];
      if (inMulti || name === 'multi') {
        // queued commands answer +QUEUED and ECHO would be queued too: no sentinel in MULTI
        const r = await conn.call(argv, 5000);
        if (r === 'TIMEOUT') {
          problems.push(`no reply within 5 s to ${shown} (in MULTI)`);
          break;
        }
        replies = r === null ? [] : [r];
        if (name === 'multi' && r === '+OK\r\n') inMulti = true;
        // EXEC/DISCARD/RESET end the transaction unless refused for their arity (still in MULTI)
        else if (r === null || ((name === 'exec' || name === 'discard' || name === 'reset') && !r.startsWith('-ERR wrong number'))) inMulti = false;
      } else {
        conn.keepPushes = MULTI_REPLY.has(name);
        const r = await conn.callSynced(argv, `fz-sync-${w}-${sent}`, 5000);
        conn.keepPushes = false;
        if (r === 'TIMEOUT') {
          problems.push(`no reply within 5 s to ${shown}`);
          break;
        }
        if (r === null) {
          // QUIT, or the server closed the connection after a protocol error: reconnect
          conn = await FuzzConn.connect(amber.port);
          continue;
        }
        // (P|S)UNSUBSCRIBE answer once per channel named (once when none: the fuzz never subscribes)
        const expected = MULTI_REPLY.has(name) ? Math.max(1, argv.length - 1) : 1;
        if (r.length !== expected) problems.push(`${r.length} replies instead of ${expected} to ${shown}: ${JSON.stringify(r.map((x) => x.slice(0, 80)))}`);
        replies = r;
      }
      for (const r of replies) {
        const p = checkReply(r);
        if (p) problems.push(`${p} for ${shown}`);
        if (r.startsWith('-ERR internal error')) internal.push(`${shown} -> ${r.slice(1, 200).trim()}`);
      }
      if (conn.closed) {
        conn = await FuzzConn.connect(amber.port);
        inMulti = false;
      }
    }
    conn.close();
  };
  await Promise.all([0, 1, 2, 3].map(worker));
  for (const x of internal.slice(0, 30)) t.diagnostic(`handler exception: ${x}`);
  t.diagnostic(`${sent} commands over ${specs.length} commands/subcommands, ${internal.length} handler exceptions, slowest PING ${maxPingMs} ms`);
  assert.deepEqual(problems, [], `seed ${SEED}`);
  assert.equal(pingFailures, 0, `PING failed during the command fuzz (seed ${SEED})`);
  if (STRICT) assert.deepEqual(internal, [], `seed ${SEED}`);
  // the server is still whole: new connections work, INFO answers
  const c = await RawClient.connect(amber.port);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.match(await c.call('INFO', 'server'), /redis_version:7\.0\.15/);
  c.close();
});
