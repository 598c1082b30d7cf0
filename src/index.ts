import { Config } from './config/config.js';
import { reprArg } from './config/directives.js';
import { Server } from './server/server.js';

export { Server } from './server/server.js';
export { Config, ConfigFileError } from './config/config.js';

/** Options of {@link startServer}. */
export interface StartOptions {
  /** TCP port; 0 picks a free one (the default without a config file) */
  port?: number;
  /** bind addresses (default without a config file: 127.0.0.1) */
  bind?: string[];
  /** config file to read first, like redis-server's first argument */
  configFile?: string;
  /**
   * further directives, applied after the file, like redis-server's `--name value` options:
   * `{ dir: '/tmp/x', save: '', maxmemory: '64mb', 'appendonly': true }`. A value of a multi-word
   * directive (save, bind, client-output-buffer-limit...) is split on spaces, or given as an array.
   */
  directives?: Record<string, string | number | boolean | string[]>;
  /** print log lines (default: false, since a library should not write to stdout) */
  log?: boolean;
}

/** A running server started by {@link startServer}. */
export interface RunningServer {
  /** the port it listens on (the ephemeral one when 0 was asked) */
  port: number;
  server: Server;
  /**
   * Stops listening, closes every client, runs the shutdown hooks and stops the server's timers,
   * so that the process can exit. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts an Amber server in this process: reads the config file and directives like the
 * command line, opens the listeners, loads the data set (start-up hooks), and resolves once it
 * accepts connections.
 * @throws ConfigFileError for a bad directive or value (its `report()` is Redis's text); Error
 *   when the port cannot be bound
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config = new Config();
  const lines: string[] = [];
  // Without a config file the library listens on an ephemeral loopback port by default; with
  // one, the file's port and bind hold unless given here.
  if (options.port !== undefined || options.configFile === undefined) lines.push(`port ${options.port ?? 0}`);
  if (options.bind !== undefined || options.configFile === undefined) {
    lines.push(`bind ${(options.bind ?? ['127.0.0.1']).map(reprArg).join(' ')}`);
  }
  for (const [k, v] of Object.entries(options.directives ?? {})) {
    const multi = config.find(k)?.arity === -1;
    let words: string[];
    if (Array.isArray(v)) words = v;
    else {
      const s = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
      words = multi && s !== '' ? s.split(' ').filter((w) => w !== '') : [s];
    }
    lines.push(`${k} ${words.map(reprArg).join(' ')}`);
  }
  config.load(options.configFile ?? null, lines);
  const server = new Server(config);
  config.applyRenames(server.commands);
  server.log.quiet = !options.log;
  server.embedded = true;
  server.init();
  const port = await server.listen();
  // CONFIG GET port shows the port actually listened on when an ephemeral one was asked for.
  if (config.get<number>('port') === 0) config.restore('port', port);
  try {
    await server.startup();
  } catch (e) {
    await server.close();
    throw e;
  }
  return { port, server, close: () => server.close() };
}

/** Quotes a value for a config line so that splitArgs reads it back unchanged (sdscatrepr). */
export function quoteArg(v: string): string {
  return reprArg(v);
}
