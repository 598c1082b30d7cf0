#!/usr/bin/env node
/**
 * amber-server [config-file] [--directive value ...] [-]: the command line of redis-server 7.0.
 * The server runs in the foreground; SIGTERM and SIGINT shut it down cleanly (exit code 0), a
 * second SIGINT exits at once (exit code 1); a bad configuration stops start-up with Redis's
 * "FATAL CONFIG FILE ERROR" report and exit code 1.
 */
import { readFileSync } from 'node:fs';
import { Config, ConfigFileError, parseCommandLine } from './config/config.js';
import { SHUTDOWN_FLAG } from './config/table.js';
import { Server, REDIS_VERSION, AMBER_VERSION } from './server/server.js';
import { Logger } from './server/log.js';
import { LoggedFatalError } from './server/fatal.js';
import type { CodeCacheState } from './bootstrap.js';

const USAGE = `Usage: amber-server [/path/to/amber.conf] [options] [-]
       amber-server - (read config from stdin)
       amber-server -v or --version
       amber-server -h or --help

Examples:
       amber-server (run the server with default conf)
       echo 'maxmemory 128mb' | amber-server -
       amber-server /etc/amber/amber.conf
       amber-server --port 7777
       amber-server /etc/myamber.conf --loglevel verbose -
       amber-server /etc/myamber.conf --loglevel verbose

Amber runs in the foreground (no daemonize); stop it with SIGTERM or SIGINT.
`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '-v' || args[0] === '--version') {
    process.stdout.write(`Amber server v=${AMBER_VERSION} redis_version=${REDIS_VERSION} node=${process.version} bits=64\n`);
    process.exit(0);
  }
  if (args[0] === '-h' || args[0] === '--help') {
    process.stderr.write(USAGE);
    process.exit(1);
  }
  const cl = parseCommandLine(args);
  const early = new Logger();
  const config = new Config();
  let server: Server;
  try {
    if (cl.stdin) early.warning('Reading config from stdin');
    config.load(cl.file, cl.options, cl.stdin ? readFileSync(0, 'latin1') : null);
    server = new Server(config);
    config.applyRenames(server.commands);
  } catch (e) {
    if (e instanceof ConfigFileError) {
      if (e.logged) early.warning(e.reason);
      else process.stderr.write(e.report(REDIS_VERSION));
      process.exit(1);
    }
    throw e;
  }
  try {
    server.init();
  } catch (e) {
    // a combination of directives refused by a layer (leveldb with appendonly): its line is logged
    if (!(e instanceof LoggedFatalError)) server.log.warning(`Fatal error initializing the server: ${(e as Error).message}. Exiting.`);
    process.exit(1);
  }
  // SHUTDOWN ends the process once the server has closed, as in Redis.
  server.onExit = (code) => process.exit(code);
  const log = server.log;
  log.warning('oO0OoO0OoO0Oo Amber is starting oO0OoO0OoO0Oo');
  log.warning(`Amber version=${AMBER_VERSION}, redis_version=${REDIS_VERSION}, bits=64, node=${process.version}, pid=${process.pid}, just started`);
  if (cl.file === null && cl.options.length === 0 && !cl.stdin) {
    log.warning('Warning: no config file specified, using the default config. In order to specify a config file use amber-server /path/to/amber.conf');
  } else {
    log.warning(`Configuration loaded${cl.file ? ` from ${config.configFile}` : ''}`);
  }
  logCodeCache(log);
  let port: number;
  try {
    port = await server.listen();
  } catch (e) {
    log.warning(`Failed listening on port ${config.get<number>('port')} (tcp), aborting. ${(e as Error).message}`);
    process.exit(1);
  }
  log.notice(`Running mode=standalone, port=${port}.`);
  log.warning('Server initialized');
  installSignalHandlers(server);
  try {
    await server.startup();
  } catch (e) {
    // a data file that cannot be loaded stops the server with exit code 1, as in Redis
    if (!(e instanceof LoggedFatalError)) log.warning(`Fatal error loading the DB: ${(e as Error).message.replace(/\.$/, '')}. Exiting.`);
    process.exit(1);
  }
  log.notice('Ready to accept connections');
  // main() in server.c: a suspicious maxmemory setting
  const maxmemory = config.get<number>('maxmemory');
  if (maxmemory > 0 && maxmemory < 1024 * 1024) {
    log.warning(`WARNING: You specified a maxmemory value that is less than 1MB (current value is ${maxmemory} bytes). Are you sure this is what you really want?`);
  }
}

/**
 * What the entry (bootstrap.ts) did with its V8 code cache, for the log; nothing when the server
 * was started otherwise (dist/src/main.js, tsx).
 */
function logCodeCache(log: Logger): void {
  const cc = (globalThis as Record<symbol, unknown>)[Symbol.for('amber.code-cache')] as { state: CodeCacheState; path: string } | undefined;
  if (cc === undefined) return;
  const after = 'the server was compiled at start-up instead (a few tens of milliseconds); a clean shutdown writes a new one';
  if (cc.state === 'used') log.verbose(`Server code loaded from the V8 code cache ${cc.path}`);
  else if (cc.state === 'absent') log.verbose(`No V8 code cache at ${cc.path}: ${after}`);
  else if (cc.state === 'stale') log.notice(`The V8 code cache ${cc.path} is of another build: ${after}`);
  else if (cc.state === 'source-maps') log.verbose('Source maps are on (--enable-source-maps): the server bundle was loaded as a CommonJS module, without the V8 code cache');
  else log.notice(`Node.js refused the V8 code cache ${cc.path} (written by another Node.js version?): ${after}`);
}

/**
 * SIGTERM/SIGINT as sigShutdownHandler + serverCron in Redis: schedule a shutdown with the flags
 * of shutdown-on-sigterm / shutdown-on-sigint, exit 0 when it succeeds, keep running when it is
 * refused (a failed save); a second SIGINT during shutdown exits at once with 1.
 */
function installSignalHandlers(server: Server): void {
  let shuttingDown = false;
  const onSignal = (sig: 'SIGTERM' | 'SIGINT'): void => {
    if (shuttingDown) {
      if (sig === 'SIGINT') {
        server.log.warning('You insist... exiting now.');
        process.exit(1);
      }
      return;
    }
    shuttingDown = true;
    server.log.warning(server.keyspace.loading
      ? 'Received shutdown signal during loading, scheduling shutdown.'
      : `Received ${sig} scheduling shutdown...`);
    const flags = server.config.get<number>(sig === 'SIGINT' ? 'shutdown-on-sigint' : 'shutdown-on-sigterm');
    server.shutdown({
      reason: sig,
      save: (flags & SHUTDOWN_FLAG.save) !== 0,
      nosave: (flags & SHUTDOWN_FLAG.nosave) !== 0,
      now: (flags & SHUTDOWN_FLAG.now) !== 0,
      force: (flags & SHUTDOWN_FLAG.force) !== 0,
    }).then(
      (ok) => {
        if (ok) process.exit(0);
        server.log.warning(`${sig} received but errors trying to shut down the server, check the logs for more information`);
        shuttingDown = false;
      },
      (e: Error) => {
        server.log.warning(`Error during shutdown: ${e.stack ?? e.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

void main();
