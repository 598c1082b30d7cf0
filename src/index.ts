import { Config } from './config/config.js';
import { Server } from './server/server.js';

export { Server } from './server/server.js';
export { Config } from './config/config.js';

/** Options of {@link startServer}. */
export interface StartOptions {
  /** TCP port; 0 (the default here) picks a free one */
  port?: number;
  /** bind addresses; default 127.0.0.1 */
  bind?: string[];
  /** config file to read first, like redis-server's first argument */
  configFile?: string;
  /** further directives, applied after the file: `{ dir: '/tmp/x', 'save': '' }` */
  directives?: Record<string, string | number | boolean>;
  /** print log lines (default: false, since a library should not write to stdout) */
  log?: boolean;
}

/** A running server started by {@link startServer}. */
export interface RunningServer {
  port: number;
  server: Server;
  /** stops listening, closes clients, runs shutdown hooks */
  close(): Promise<void>;
}

/**
 * Starts an Amber server in this process.
 * @throws ConfigFileError for a bad directive; Error when the port cannot be bound
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const lines: string[] = [];
  lines.push(`port ${options.port ?? 0}`);
  lines.push(`bind ${(options.bind ?? ['127.0.0.1']).join(' ')}`);
  for (const [k, v] of Object.entries(options.directives ?? {})) {
    const val = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
    lines.push(`${k} ${quoteArg(val)}`);
  }
  const config = new Config();
  config.load(options.configFile ?? null, lines);
  const server = new Server(config);
  server.log.quiet = !options.log;
  server.init();
  const port = await server.listen();
  return { port, server, close: () => server.close() };
}

/** Quotes a value for a config line so that splitArgs reads it back unchanged. */
export function quoteArg(v: string): string {
  if (v !== '' && !/[\s"'\\]/.test(v)) return v;
  let s = '"';
  for (const ch of v) {
    const code = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') s += '\\' + ch;
    else if (code < 32 || code > 126) s += '\\x' + code.toString(16).padStart(2, '0');
    else s += ch;
  }
  return s + '"';
}
