#!/usr/bin/env node
import { Config, ConfigFileError } from './config/config.js';
import { Server, REDIS_VERSION, AMBER_VERSION } from './server/server.js';

/**
 * amber-server [config-file] [--directive value ...]: the command line of redis-server.
 * Options after the file become config lines, as Redis builds them: `--port 7000 --save ""`.
 */
function parseArgv(argv: string[]): { file: string | null; lines: string[] } {
  let file: string | null = null;
  let i = 0;
  if (argv[0] !== undefined && !argv[0].startsWith('--')) {
    file = argv[0] === '-' ? null : argv[0];
    i = 1;
  }
  const lines: string[] = [];
  let cur: string[] = [];
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--') && a.length > 2) {
      if (cur.length) lines.push(cur.join(' '));
      cur = [a.slice(2)];
    } else {
      cur.push(quoteWord(a));
    }
  }
  if (cur.length) lines.push(cur.join(' '));
  return { file, lines };
}

function quoteWord(a: string): string {
  if (a === '' || /[\s"'\\]/.test(a)) return '"' + a.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  return a;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '-v' || args[0] === '--version') {
    console.log(`Amber server v=${AMBER_VERSION} (Redis ${REDIS_VERSION} compatible) node=${process.version}`);
    return;
  }
  const { file, lines } = parseArgv(args);
  const config = new Config();
  try {
    config.load(file, lines);
  } catch (e) {
    if (e instanceof ConfigFileError) {
      process.stderr.write(e.report(REDIS_VERSION));
      process.exit(1);
    }
    throw e;
  }
  const server = new Server(config);
  server.init();
  server.log.notice('oO0OoO0OoO0Oo Amber is starting oO0OoO0OoO0Oo');
  server.log.notice(`Amber version=${AMBER_VERSION}, Redis compatibility=${REDIS_VERSION}, node=${process.version}, pid=${process.pid}, just started`);
  if (file) server.log.notice(`Configuration loaded from ${config.configFile}`);
  else server.log.warning('Warning: no config file specified, using the default config. In order to specify a config file use amber-server /path/to/amber.conf');
  let port: number;
  try {
    port = await server.listen();
  } catch (e) {
    server.log.warning(`Failed listening: ${(e as Error).message}. Exiting.`);
    process.exit(1);
  }
  await server.startup();
  server.log.notice(`Amber ${AMBER_VERSION} running in standalone mode, port ${port}, pid ${process.pid}`);
  server.log.notice('Ready to accept connections');
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    server.log.warning(`Received ${sig} scheduling shutdown...`);
    void server.shutdown({ reason: sig }).then((ok) => {
      if (ok) process.exit(0);
      stopping = false;
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
