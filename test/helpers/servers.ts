/**
 * Test servers: Amber in-process (startServer) and redis-server 7.0.15 as a child process, plus a
 * raw RESP connection for byte-exact comparisons. Tests that need redis-server call
 * {@link redisAvailable} and skip with a printed reason when it is missing; with CI=true a
 * missing redis-server is a failure instead.
 */
import net from 'node:net';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer, type StartOptions } from '../../src/index.js';

export const CI = process.env.CI === 'true' || process.env.CI === '1';

/** `../shared/fixtures` beside the repository, or null when absent (fails under CI). */
export function fixturesDir(): string | null {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures');
  if (existsSync(dir)) return dir;
  if (CI) throw new Error(`CI=true but the fixtures folder ${dir} is missing`);
  return null;
}

let redisChecked: boolean | null = null;
/**
 * True when redis-server 7.0.x is on PATH. When absent: false (the caller skips and says why),
 * or, under CI=true, an exception, since CI must compare against Redis.
 */
export function redisAvailable(): boolean {
  if (redisChecked === null) {
    const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    redisChecked = r.status === 0 && /v=7\.0\./.test(r.stdout);
  }
  if (!redisChecked && CI) throw new Error('CI=true but redis-server 7.0 is not installed (apt-get install redis-server)');
  return redisChecked;
}

/** Reason string for test skips. */
export const NO_REDIS = 'redis-server 7.0 not installed: compatibility test skipped';

/**
 * A maker of fresh temporary directories `<tmpdir>/<prefix>XXXXXX` for one test file; every
 * directory it made is removed after the file's tests (node:test `after`).
 */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** Starts Amber in this process on a free port. Directives as in amber.conf. */
export async function startAmber(directives: StartOptions['directives'] = {}): Promise<RunningServer> {
  // Without a dir of its own, a test server works in a fresh temporary folder (removed on close)
  // and never saves, so no test writes dump.rdb or an AOF into the repository.
  const own = directives.dir === undefined ? mkdtempSync(join(tmpdir(), 'amber-test-')) : null;
  const base: NonNullable<StartOptions['directives']> = { 'enable-debug-command': 'yes' };
  if (own) {
    base.dir = own;
    base.save = '';
  }
  const s = await startServer({ port: 0, directives: { ...base, ...directives } });
  if (!own) return s;
  return {
    ...s,
    close: async () => {
      await s.close();
      rmSync(own, { recursive: true, force: true });
    },
  };
}

/**
 * SAVEs the Amber server on `port`, copies its dump.rdb into `dir` and starts a second Amber
 * there (no save points): a server whose keys were all just loaded from that file, to compare
 * with the first (values left packed by a load against values built by commands).
 */
export async function startFromSave(port: number, dir: string): Promise<RunningServer> {
  const c = await RawClient.connect(port);
  let info: string;
  try {
    await c.call('SAVE');
    info = await c.call('CONFIG', 'GET', 'dir');
  } finally {
    c.close();
  }
  copyFileSync(join(/\r\n\$\d+\r\n(.*)\r\n$/.exec(info)![1]!, 'dump.rdb'), join(dir, 'dump.rdb'));
  return startAmber({ dir, save: '' });
}

/** What {@link withLoadedTwin} hands its check. */
export interface LoadedTwin {
  /** the server whose values were built by commands */
  eager: RunningServer;
  /** the server that loaded them from the first one's dump.rdb */
  loaded: RunningServer;
  /** the commands of the tests, in order, each set on its own key */
  cmds: string[][];
  /** the keys built, one per test (`${prefix}${i}`) */
  keys: string[];
}

/**
 * For testing values an RDB load leaves in a packed form: builds a fresh key `${prefix}${i}` with
 * the command `fill(key)` for every test i on a new Amber, runs `prepare` there (more keys), then
 * starts a second Amber on its dump.rdb and asserts that every key built (and `prepare`'s) is
 * still packed there by `isPacked`, before `check` runs commands on both. Both servers are closed
 * afterwards.
 */
export async function withLoadedTwin(
  opts: {
    prefix: string;
    fill: (key: string) => string[];
    tests: Array<(key: string) => string[][]>;
    isPacked: (v: unknown) => boolean;
    prepare?: (c: RawClient) => Promise<string[]>;
  },
  check: (t: LoadedTwin) => Promise<void>,
): Promise<void> {
  const eager = await startAmber();
  const dir = mkdtempSync(join(tmpdir(), 'amber-loaded-twin-'));
  try {
    const c = await RawClient.connect(eager.port);
    const cmds: string[][] = [];
    const keys: string[] = [];
    let more: string[] = [];
    try {
      // one fresh key per test: each meets a value nobody touched since the load
      for (let i = 0; i < opts.tests.length; i++) {
        const k = `${opts.prefix}${i}`;
        await c.call(...opts.fill(k));
        keys.push(k);
        for (const cmd of opts.tests[i]!(k)) cmds.push(cmd);
      }
      if (opts.prepare) more = await opts.prepare(c);
    } finally {
      c.close();
    }
    const loaded = await startFromSave(eager.port, dir);
    try {
      for (const k of [...keys, ...more]) {
        assert.ok(opts.isPacked(loaded.server.keyspace.dbs[0]!.peek(k)), `${k} is packed after the load`);
      }
      await check({ eager, loaded, cmds, keys });
    } finally {
      await loaded.close();
    }
  } finally {
    await eager.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A redis-server child on a free port with its own temporary dir. */
export interface RedisChild {
  port: number;
  dir: string;
  proc: ChildProcess;
  close(): Promise<void>;
}

/** Returns a TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Waits until the server on `port` answers as the child `proc` (INFO's process_id is its PID):
 * between freePort() and the child's bind another test may take the port, and a PING alone would
 * then reach that other server; and it must have loaded its data set. Resolves 'ready', or 'exited' when the child died first (it lost
 * the port, or failed to start: `log()` says which); throws after `ms` milliseconds.
 */
async function awaitOwnServer(port: number, proc: ChildProcess, ms: number, log: () => string, what: string): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) return 'exited';
    try {
      const c = await RawClient.connect(port);
      // INFO answers while the data set loads: ready means our PID and loading:0
      const r = await c.call('INFO', 'server', 'persistence');
      c.close();
      if (r.includes(`\r\nprocess_id:${proc.pid}\r\n`) && r.includes('\r\nloading:0\r\n')) return 'ready';
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${what} did not start on port ${port}: ${log()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** True when a child's start-up log says its port was taken (a race with another test). */
const lostPort = (log: string): boolean => /EADDRINUSE|Address already in use/i.test(log);

/** Starts redis-server with `args` (e.g. ['--save', '']); stopped by its own PID. */
export async function startRedis(args: string[] = [], dir?: string): Promise<RedisChild> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'amber-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', d, '--enable-debug-command', 'yes', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    proc.stdout?.on('data', (b: Buffer) => { log += b.toString(); });
    proc.stderr?.on('data', (b: Buffer) => { log += b.toString(); });
    if ((await awaitOwnServer(port, proc, 10000, () => log, 'redis-server')) === 'exited') {
      if (lostPort(log) && attempt < 5) continue;
      throw new Error(`redis-server exited: ${log}`);
    }
    return {
      port, dir: d, proc,
      close: async () => {
        // signalCode too: a child killed by an earlier close() has no exit code, only a signal
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGKILL');
          await new Promise((r) => proc.once('exit', r));
        }
        if (!dir) rmSync(d, { recursive: true, force: true });
      },
    };
  }
}

/**
 * A raw RESP connection: sends commands and returns each reply's exact bytes (latin1 string),
 * so tests can compare Amber's and Redis's replies byte for byte.
 */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<{ n: number; resolve: (r: string[]) => void; reject: (e: Error) => void }> = [];
  closed = false;
  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.drain();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters) w.reject(new Error('connection closed; pending: ' + JSON.stringify(this.buf.toString('latin1'))));
      this.waiters = [];
    });
    sock.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Encodes argv as a RESP multibulk request (latin1). */
  static encode(argv: string[]): string {
    let s = `*${argv.length}\r\n`;
    for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
    return s;
  }

  /** Sends one command; resolves to its raw reply. */
  async call(...argv: string[]): Promise<string> {
    return (await this.pipeline([argv]))[0]!;
  }

  /** Sends several commands at once; resolves to their raw replies in order. */
  pipeline(cmds: string[][]): Promise<string[]> {
    return this.sendRaw(cmds.map(RawClient.encode).join(''), cmds.length);
  }

  /** Writes raw bytes and waits for `replies` complete replies. */
  sendRaw(bytes: string | Buffer, replies: number): Promise<string[]> {
    const p = new Promise<string[]>((resolve, reject) => this.waiters.push({ n: replies, resolve, reject }));
    this.sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    this.drain();
    return p;
  }

  /** Reads `n` more replies that arrive without a request (pub/sub messages, pushes). */
  read(n = 1): Promise<string[]> {
    const p = new Promise<string[]>((resolve, reject) => this.waiters.push({ n, resolve, reject }));
    this.drain();
    return p;
  }

  private drain(): void {
    while (this.waiters.length) {
      const w = this.waiters[0]!;
      const out: string[] = [];
      let pos = 0;
      for (let i = 0; i < w.n; i++) {
        const end = replyEnd(this.buf, pos);
        if (end < 0) return;
        out.push(this.buf.latin1Slice(pos, end));
        pos = end;
      }
      this.buf = this.buf.subarray(pos);
      this.waiters.shift();
      w.resolve(out);
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

/** End offset of the complete RESP reply starting at pos, or -1 when incomplete. */
export function replyEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf('\r\n', pos, 'latin1');
  if (nl < 0) return -1;
  const t = buf[pos];
  const line = buf.latin1Slice(pos + 1, nl);
  let p = nl + 2;
  switch (t) {
    case 0x24: case 0x3d: case 0x21: { // $ = !
      const n = Number(line);
      if (n < 0) return p;
      return buf.length >= p + n + 2 ? p + n + 2 : -1;
    }
    case 0x2a: case 0x7e: case 0x25: case 0x3e: case 0x7c: { // * ~ % > |
      let n = Number(line);
      if (n < 0) return p;
      if (t === 0x25 || t === 0x7c) n *= 2;
      for (let i = 0; i < n; i++) {
        p = replyEnd(buf, p);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      return p;
  }
}

/**
 * Sends the same command sequence to two servers over fresh connections and returns both reply
 * lists, for `assert.deepStrictEqual(amber, redis)`.
 */
export async function sameReplies(portA: number, portB: number, cmds: string[][], hello3 = false): Promise<[string[], string[]]> {
  return [await callsOn(portA, cmds, hello3), await callsOn(portB, cmds, hello3)];
}

/** Runs `cmds` one by one on a fresh connection to `port` (after HELLO 3 with `hello3`); resolves to the replies. */
export async function callsOn(port: number, cmds: string[][], hello3 = false): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    if (hello3) await c.call('HELLO', '3');
    const out: string[] = [];
    for (const cmd of cmds) out.push(await c.call(...cmd));
    return out;
  } finally {
    c.close();
  }
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** An amber-server child process (for crash tests: kill -9 and restart). */
export interface AmberChild {
  port: number;
  proc: ChildProcess;
  log(): string;
  /** SIGKILL and wait for the exit */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves to the exit code */
  stop(): Promise<number | null>;
}

/**
 * Starts `amber-server` as a child (through tsx, so no build is needed) with `--dir dir` and the
 * given directives, and resolves when it answers PING (after loading).
 */
export async function spawnAmber(dir: string, directives: Record<string, string> = {}, port?: number): Promise<AmberChild> {
  // The compiled server starts in a tenth of the time tsx needs; `npm test` builds it first.
  const built = join(repoRoot, 'dist', 'src', 'main.js');
  const entry = existsSync(built) && process.env.AMBER_TEST_TSX !== '1' ? [built] : ['--import', 'tsx', join(repoRoot, 'src', 'main.ts')];
  for (let attempt = 1; ; attempt++) {
    const p = port ?? (await freePort());
    const args = [...entry, '--port', String(p), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    for (const [k, v] of Object.entries(directives)) args.push('--' + k, v);
    const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
    proc.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    if ((await awaitOwnServer(p, proc, 30000, () => out, 'amber-server')) === 'exited') {
      // a port chosen here and taken by another test meanwhile: try another one
      if (port === undefined && lostPort(out) && attempt < 5) continue;
      throw new Error(`amber-server exited with ${proc.exitCode ?? proc.signalCode}: ${out}`);
    }
    return {
      port: p, proc,
      log: () => out,
      kill: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        await exited;
      },
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        return exited;
      },
    };
  }
}

/**
 * Asserts that redis-check-rdb accepts the RDB file at `path`; does nothing where Redis is not
 * installed (callers that need it skip or fail through redisAvailable first).
 */
export function assertRedisCheckRdb(path: string): void {
  if (!redisAvailable()) return;
  const check = spawnSync('redis-check-rdb', [path], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`redis-check-rdb refused ${path}: ${check.stdout}${check.stderr}`);
}

/** The whole keyspace of a server as keyspace-dump.mjs prints it (sorted JSON lines). */
export async function keyspaceDump(port: number, dbs = 16): Promise<string> {
  const tool = join(repoRoot, '..', 'shared', 'tools', 'keyspace-dump.mjs');
  const local = join(repoRoot, 'test', 'helpers', 'keyspace-dump.mjs');
  const script = existsSync(tool) ? tool : local;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, '--port', String(port), '--dbs', String(dbs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString('latin1'); });
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`keyspace-dump failed (${code}): ${err}`))));
  });
}
