/**
 * The amber-server process: command line, config file errors (the same report and exit code as
 * redis-server), the start-up banner and log format, logfile/loglevel, SIGTERM/SIGINT shutdown
 * with exit code 0, and the library API releasing its port and timers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient, freePort, redisAvailable } from '../helpers/servers.js';
import { startServer } from '../../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(root, 'src', 'main.ts');
/** tsx's loader by absolute URL: the children run in a temporary directory. */
const tsx = import.meta.resolve('tsx');
const work = mkdtempSync(join(tmpdir(), 'amber-process-'));
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Redis's log line: `pid:role dd Mon yyyy hh:mm:ss.mmm <level> message`. */
const LOG_LINE = /^(\d+):[MCSX] \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] .+$/;

interface Running {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function amberServer(args: string[]): Running {
  const proc = spawn(process.execPath, ['--import', tsx, main, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString('latin1'); });
  proc.stderr!.on('data', (b: Buffer) => { err += b.toString('latin1'); });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, err: () => err, exited };
}

async function waitFor(cond: () => boolean, what: string, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the CLI to completion (for start-up failures). */
function runToExit(args: string[], cwd = work): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', tsx, main, ...args], { cwd, encoding: 'latin1', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('starts with the banner in Redis log format, answers PING, exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const s = amberServer(['--port', String(port), '--save', '', '--dir', join(work, 'data1')]);
  await waitFor(() => s.out().includes('Ready to accept connections'), 'ready');
  const lines = s.out().trim().split('\n');
  for (const l of lines) assert.match(l, LOG_LINE);
  assert.equal(lines[0]!.match(LOG_LINE)![1], String(s.proc.pid));
  assert.match(s.out(), /# oO0OoO0OoO0Oo Amber is starting oO0OoO0OoO0Oo/);
  assert.match(s.out(), new RegExp(`Amber version=\\d+\\.\\d+\\.\\d+, redis_version=7\\.0\\.15, .*pid=${s.proc.pid}, just started`));
  assert.match(s.out(), new RegExp(`\\* Running mode=standalone, port=${port}\\.`));
  assert.ok(existsSync(join(work, 'data1')), 'dir is created');
  const c = await RawClient.connect(port);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'dir'), `*2\r\n$3\r\ndir\r\n$${join(work, 'data1').length}\r\n${join(work, 'data1')}\r\n`);
  c.close();
  s.proc.kill('SIGTERM');
  assert.equal(await s.exited, 0);
  assert.match(s.out(), /# Received SIGTERM scheduling shutdown\.\.\.\n/);
  assert.match(s.out(), /# User requested shutdown\.\.\.\n/);
  assert.match(s.out(), /is now ready to exit, bye bye\.\.\.\n/);
  assert.equal(s.err(), '');
});

test('SIGINT shuts down cleanly; logfile and loglevel are honoured; a config file with include', async () => {
  const port = await freePort();
  const logfile = join(work, 'amber.log');
  writeFileSync(join(work, 'inc.conf'), `loglevel warning\nlogfile ${logfile}\n`);
  writeFileSync(join(work, 'main.conf'), `# test\nport ${port}\ninclude ${join(work, 'inc.conf')}\nsave ""\n`);
  const s = amberServer(['main.conf', '--maxmemory', '10mb']);
  await waitFor(() => existsSync(logfile) && readFileSync(logfile, 'latin1').includes('Server initialized'), 'log file');
  const c = await RawClient.connect(port);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), '*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n');
  c.close();
  s.proc.kill('SIGINT');
  assert.equal(await s.exited, 0);
  const log = readFileSync(logfile, 'latin1');
  for (const l of log.trim().split('\n')) assert.match(l, LOG_LINE);
  assert.match(log, /Received SIGINT scheduling shutdown/);
  // warning level: no notice ('*') lines, and nothing on stdout
  assert.doesNotMatch(log, / \* /);
  assert.equal(s.out(), '');
});

test('a bad config file stops start-up with exit code 1 and the report redis-server gives', async () => {
  const bad = join(work, 'bad.conf');
  writeFileSync(bad, 'port 7412\n# c\n\nfoo bar\n');
  const r = runToExit([bad]);
  assert.equal(r.code, 1);
  const redisReport = "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 4\n>>> 'foo bar'\nBad directive or wrong number of arguments\n";
  assert.equal(r.stderr, redisReport + `(in ${bad})\n`);
  if (redisAvailable()) {
    const rr = spawnSync('redis-server', [bad], { encoding: 'latin1', timeout: 10000 });
    assert.equal(rr.status, 1);
    assert.equal(rr.stderr, redisReport);
  }
  // a bad value on the command line: its line follows the file's
  const r2 = runToExit(['--port', '99999']);
  assert.equal(r2.code, 1);
  assert.equal(r2.stderr, "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'port \"99999\"'\nargument must be between 0 and 65535 inclusive\n");
  if (redisAvailable()) assert.equal(spawnSync('redis-server', ['--port', '99999'], { encoding: 'latin1' }).stderr, r2.stderr);
  // a missing file is a log line, as in Redis
  const r3 = runToExit([join(work, 'missing.conf')]);
  assert.equal(r3.code, 1);
  assert.match(r3.stdout, /^\d+:[MC] .* # Fatal error, can't open config file '.*missing\.conf': No such file or directory\n$/);
});

test('--daemonize yes is refused with a clear message; --version prints the version', () => {
  const r = runToExit(['--daemonize', 'yes']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, />>> 'daemonize "yes"'\ndaemonize yes is not supported: Amber runs in the foreground/);
  const v = runToExit(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^Amber server v=\d+\.\d+\.\d+ redis_version=7\.0\.15 /);
});

test('the library API: startServer on an ephemeral port; close() frees the port and lets the process exit', async () => {
  const s = await startServer({ directives: { save: '', maxmemory: '1mb' } });
  const c = await RawClient.connect(s.port);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'port'), `*2\r\n$4\r\nport\r\n$${String(s.port).length}\r\n${s.port}\r\n`);
  assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), '*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n');
  await s.close();
  await waitFor(() => c.closed, 'client closed by close()', 5000);
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(s.port, '127.0.0.1', () => probe.close(() => resolve()));
  });
  // a process that starts and closes a server exits by itself: no timer or socket keeps it alive
  const script = `import { startServer } from ${JSON.stringify(join(root, 'src', 'index.ts'))};
const s = await startServer({ directives: { save: '' } });
await s.close();
console.log('closed');`;
  const r = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { cwd: work, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'closed\n');
});

test('SHUTDOWN NOSAVE ends the process with exit code 0', async () => {
  const port = await freePort();
  const s = amberServer(['--port', String(port), '--save', '']);
  await waitFor(() => s.out().includes('Ready to accept connections'), 'ready');
  const c = await RawClient.connect(port);
  await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the connection closes without a reply
  assert.equal(await s.exited, 0);
  assert.match(s.out(), /User requested shutdown/);
});
